// The messages a session holds until its running turn ends (sent with mode "queue": the
// status's `queued`, oldest first), each with a Cancel button
// (DELETE /sessions/{id}/queue/{queue_id}). Read afresh from /status when the view opens, after
// a message is sent, when a turn starts or ends, and after a cancel (no event says the queue changed).

import { el, reconcile, setText } from './dom.js';

export class QueueList {
  // root: the section (hidden while the queue is empty), holding ul.queue and p.error
  constructor(root, api, { sessionId, unauthorized }) {
    this.root = root;
    this.list = root.querySelector('ul');
    this.error = root.querySelector('.error');
    this.api = api;
    this.sessionId = sessionId;
    this.unauthorized = unauthorized;
    this.asked = 0;
  }

  clear() {
    this.list.replaceChildren();
    setText(this.error, '');
    this.root.hidden = true;
  }

  // Show `queued` ([{queue_id, message, created_at}]); items already shown are kept in place.
  show(queued) {
    const shown = new Map([...this.list.children].map((item) => [item.dataset.queueId, item]));
    const items = (queued || []).map((q) => shown.get(q.queue_id) || this.item(q));
    reconcile(this.list, items);
    this.root.hidden = items.length === 0 && !this.error.textContent;
  }

  item(queued) {
    const cancel = el('button', { type: 'button', class: 'cancel', 'aria-label': `Cancel queued: ${queued.message.slice(0, 80)}` }, 'Cancel');
    cancel.addEventListener('click', () => this.cancel(queued.queue_id, cancel));
    return el('li', { 'data-queue-id': queued.queue_id }, el('span', { class: 'text' }, queued.message), ' ', cancel);
  }

  async cancel(queueId, button) {
    const id = this.sessionId();
    if (!id) return;
    button.disabled = true;
    setText(this.error, '');
    try {
      await this.api.delete(`${this.api.session(id)}/queue/${encodeURIComponent(queueId)}`);
    } catch (error) {
      if (error.status === 401) return this.unauthorized();
      setText(this.error, error.status === 404 ? 'That message is no longer queued (it may be running).' : `Could not cancel: ${error.detail || error.message}`);
    }
    return this.refresh();
  }

  // Read the queue from /status (the newest reading wins).
  async refresh() {
    const id = this.sessionId();
    if (!id) return;
    const asked = ++this.asked;
    try {
      const status = await this.api.get(`${this.api.session(id)}/status`);
      if (asked === this.asked && this.sessionId() === id) this.show(status.queued);
    } catch (error) {
      if (error.status === 401) this.unauthorized();
    }
  }
}
