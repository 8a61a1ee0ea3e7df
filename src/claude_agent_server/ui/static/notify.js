// Telling a person who looks elsewhere that an agent waits for them: the tab's title
// counts the pending permission requests, and while the tab is in the background each
// new request raises a browser notification (asked for once, by a button in the header).

import { $ } from './dom.js';

const TITLE = document.title;

export class Notifier {
  constructor(store) {
    this.store = store;
    this.seen = new Set();  // request ids already notified (or present when the page loaded)
    this.button = $('#notify');
    this.button.addEventListener('click', () => this.ask());
    this.offer();
  }

  get supported() {
    return typeof Notification === 'function';
  }

  // The button shows while the browser has not been asked yet.
  offer() {
    this.button.hidden = !this.supported || Notification.permission !== 'default';
  }

  async ask() {
    if (!this.supported) return;
    try {
      await Notification.requestPermission();
    } finally {
      this.offer();
    }
  }

  // After each change of the store: the title, and a notification per new request while hidden.
  update() {
    const count = this.store.pending.size;
    document.title = count ? `(${count}) waiting · ${TITLE}` : TITLE;
    const fresh = [...this.store.pending.values()].filter((request) => !this.seen.has(request.request_id));
    for (const request of fresh) this.seen.add(request.request_id);
    if (!fresh.length || document.visibilityState !== 'hidden') return;
    if (!this.supported || Notification.permission !== 'granted') return;
    for (const request of fresh) this.raise(request);
  }

  raise(request) {
    const title = this.store.sessions.get(request.session_id)?.title || request.session_id.slice(0, 8);
    const notification = new Notification(`${request.tool_name || 'A tool'} waits for your answer`, {
      body: `In ${title}`,
      tag: request.request_id,
      icon: '/ui/static/favicon.svg',
    });
    notification.addEventListener('click', () => {
      window.focus();
      window.location.hash = `session=${request.session_id}`;
      notification.close();
    });
  }
}
