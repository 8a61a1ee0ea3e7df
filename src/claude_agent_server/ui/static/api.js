// The server's HTTP API with the API key in a header on every call; the key lives in
// sessionStorage (this tab only, gone when it closes), never in a URL or a cookie.

import { EventStream, HttpError } from './sse.js';

const KEY = 'claude-agent-server.api-key';

export const storedKey = () => sessionStorage.getItem(KEY);
export const storeKey = (key) => sessionStorage.setItem(KEY, key);
export const forgetKey = () => sessionStorage.removeItem(KEY);

export { HttpError };

export class Api {
  constructor(key) {
    this.key = key || null;
  }

  get headers() {
    return this.key ? { Authorization: `Bearer ${this.key}` } : {};
  }

  // JSON in, JSON out; throws HttpError with the server's `detail` for any non-2xx.
  async request(method, path, body) {
    const headers = { Accept: 'application/json', ...this.headers };
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let data = null;
    try { data = await response.json(); } catch { /* empty or not JSON */ }
    if (!response.ok) {
      const detail = data && data.detail;
      throw new HttpError(response.status, typeof detail === 'string' ? detail : JSON.stringify(detail ?? response.statusText));
    }
    return data;
  }

  get(path) { return this.request('GET', path); }
  post(path, body = {}) { return this.request('POST', path, body); }
  delete(path) { return this.request('DELETE', path); }

  session(id) { return `/sessions/${encodeURIComponent(id)}`; }

  respond(sessionId, requestId, allowed, applySuggestions = false) {
    return this.post(`${this.session(sessionId)}/permissions/respond`, {
      request_id: requestId, allowed, apply_suggestions: applySuggestions,
    });
  }

  stream(path, callbacks) {
    return new EventStream(path, { headers: this.headers, ...callbacks });
  }
}
