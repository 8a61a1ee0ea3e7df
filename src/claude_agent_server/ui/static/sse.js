// Server-Sent Events over fetch() streaming, so the API key travels in a header
// (EventSource cannot send one) and never in a URL or a log.
//
// Three stages, as in Azure/fetch-event-source's parse.ts: bytes -> lines (CR, LF or
// CRLF, also split across chunks) -> messages ({id, event, data, retry}). The stream
// reconnects with Last-Event-ID after a drop, backing off (1 s doubling to 30 s), and
// waits while the tab is hidden; it stops for good on abort, on a terminal event, or
// on an HTTP error that retrying cannot fix (4xx).

export class HttpError extends Error {
  constructor(status, detail) {
    super(`HTTP ${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

// Splits decoded text into lines; keeps a partial line (and a trailing CR) between chunks.
export class LineSplitter {
  constructor() {
    this.buffer = '';
    this.pendingCR = false;
  }

  push(text) {
    const lines = [];
    if (!text) return lines;  // an empty chunk (e.g. half a UTF-8 character) must not forget a trailing CR
    let start = 0;
    let i = 0;
    if (this.pendingCR && text.startsWith('\n')) {
      start = i = 1;  // the LF of a CRLF split across chunks
    }
    this.pendingCR = false;
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '\r' || c === '\n') {
        lines.push(this.buffer + text.slice(start, i));
        this.buffer = '';
        if (c === '\r') {
          if (i + 1 === text.length) this.pendingCR = true;
          else if (text[i + 1] === '\n') i++;
        }
        start = i + 1;
      }
    }
    this.buffer += text.slice(start);
    return lines;
  }
}

// Turns lines into messages; `lastEventId` survives messages without an id, as in the spec.
export class MessageParser {
  constructor() {
    this.lastEventId = null;
    this.reset();
  }

  reset() {
    this.data = [];
    this.event = '';
    this.retry = null;
    this.hasData = false;
  }

  // Returns a message when `line` ends one, else null.
  line(line) {
    if (line === '') {
      const message = this.hasData
        ? { id: this.lastEventId, event: this.event || 'message', data: this.data.join('\n'), retry: this.retry }
        : null;
      this.reset();
      return message;
    }
    if (line.startsWith(':')) return null;  // a comment (heartbeat)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.hasData = true;
    } else if (field === 'event') {
      this.event = value;
    } else if (field === 'id') {
      if (!value.includes('\0')) this.lastEventId = value;
    } else if (field === 'retry' && /^\d+$/.test(value)) {
      this.retry = Number(value);
    }
    return null;
  }
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

const visible = (signal) => new Promise((resolve) => {
  if (typeof document === 'undefined' || !document.hidden) return resolve();
  const onChange = () => {
    if (!document.hidden) { document.removeEventListener('visibilitychange', onChange); resolve(); }
  };
  document.addEventListener('visibilitychange', onChange);
  signal.addEventListener('abort', () => { document.removeEventListener('visibilitychange', onChange); resolve(); }, { once: true });
});

// Follows one SSE URL until stopped. Callbacks:
//   onMessage({id, event, data})  -> return true to stop (a terminal event)
//   onState('open' | 'retrying' | 'stopped', detail)
//   onError(error)                -> an HttpError that ends the stream (401, 404, ...)
export class EventStream {
  constructor(url, { headers = {}, onMessage, onState = () => {}, onError = () => {}, lastEventId = null } = {}) {
    this.url = url;
    this.headers = headers;
    this.onMessage = onMessage;
    this.onState = onState;
    this.onError = onError;
    this.lastEventId = lastEventId;
    this.controller = new AbortController();
    this.minDelay = 1000;
    this.maxDelay = 30000;
  }

  stop() {
    this.controller.abort();
  }

  // Resume from this event id after a drop, unless a later id arrives first (a snapshot
  // frame without an id tells where the stream began).
  resumeFrom(id) {
    if (this.lastEventId === null && id !== null && id !== undefined) this.lastEventId = String(id);
  }

  get stopped() {
    return this.controller.signal.aborted;
  }

  async run() {
    const signal = this.controller.signal;
    let delay = this.minDelay;
    while (!signal.aborted) {
      let outcome;
      try {
        outcome = await this.once(signal, () => { delay = this.minDelay; });
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof HttpError && error.status === 400 && this.lastEventId !== null) {
          this.lastEventId = null;  // a cursor this server does not know (its registry was reset): start afresh
          continue;
        }
        if (error instanceof HttpError && error.status < 500 && error.status !== 429) {
          this.onError(error);
          break;
        }
        outcome = 'dropped';
      }
      if (outcome === 'terminal' || signal.aborted) break;
      this.onState('retrying', Math.round(delay / 1000));
      await sleep(delay, signal);
      await visible(signal);
      delay = Math.min(delay * 2, this.maxDelay);
    }
    this.controller.abort();
    this.onState('stopped');
  }

  // One connection: 'terminal' when onMessage asked to stop, 'dropped' when the stream ended.
  async once(signal, opened) {
    const headers = { Accept: 'text/event-stream', ...this.headers };
    if (this.lastEventId !== null) headers['Last-Event-ID'] = this.lastEventId;
    const response = await fetch(this.url, { headers, signal, cache: 'no-store' });
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail ?? detail; } catch { /* not JSON */ }
      throw new HttpError(response.status, detail);
    }
    opened();
    this.onState('open');
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const lines = new LineSplitter();
    const parser = new MessageParser();
    parser.lastEventId = this.lastEventId;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'dropped';
        for (const line of lines.push(decoder.decode(value, { stream: true }))) {
          const message = parser.line(line);
          if (parser.lastEventId !== null) this.lastEventId = parser.lastEventId;
          if (message && this.onMessage(message)) return 'terminal';
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }
}
