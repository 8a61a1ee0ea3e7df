// One session's view: its conversation (history, then its own event stream) with each
// message's actions (fork, undo), the fork's parent, the message box (a message sent while a
// turn runs is queued; the queue is listed with Cancel buttons), Interrupt, model and
// permission-mode selectors, Hibernate and Close.

import { $, el, setText, shortId, statusLabel } from './dom.js';
import { Conversation } from './conversation.js';
import { messageActions } from './message-actions.js';
import { QueueList } from './queue.js';

const RECONNECTING = 'Connection lost; reconnecting…';

export class SessionView {
  constructor(root, api, store, { onUnauthorized, onClosed, me = () => null }) {
    this.root = root;
    this.api = api;
    this.store = store;
    this.onUnauthorized = onUnauthorized;
    this.onClosed = onClosed;
    this.id = null;
    this.stream = null;
    this.turnEventId = null;  // the running turn's first event when the view opened
    this.me = me;
    this.cwd = null;  // the session's directory (its status says)
    this.target = null;  // the message to show once the history is in (#session=<id>&message=<uuid>)
    const context = {
      api, me, sessionId: () => this.id, cwd: () => this.cwd, unauthorized: () => onUnauthorized(),
      open: (id) => { window.location.hash = `session=${id}`; },
    };
    this.conversation = new Conversation($('#conversation', root), (request, allowed, always) =>
      api.respond(request.session_id, request.request_id, allowed, always), messageActions(context));
    this.queue = new QueueList($('#view-queue', root), api, context);
    this.forked = $('#view-forked', root);
    this.title = $('#view-title', root);
    this.status = $('#view-status', root);
    this.error = $('#view-error', root);
    this.model = $('#view-model', root);
    this.mode = $('#view-mode', root);
    this.message = $('#message', root);
    this.wire();
    store.addEventListener('change', () => this.retitle());
  }

  retitle() {
    if (!this.id) return;
    const entry = this.store.sessions.get(this.id);
    setText(this.title, `Session ${shortId(this.id)}${entry?.title ? ` — ${entry.title}` : ''}`);
  }

  wire() {
    const root = this.root;
    $('#send-form', root).addEventListener('submit', (event) => { event.preventDefault(); this.send(); });
    this.message.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); this.send(); }
    });
    $('#view-interrupt', root).addEventListener('click', () => this.call('POST', 'interrupt'));
    $('#view-hibernate', root).addEventListener('click', () => this.call('POST', 'hibernate'));
    $('#view-close', root).addEventListener('click', async () => {
      if (await this.call('DELETE', '')) this.onClosed(this.id);
    });
    $('#view-set-model', root).addEventListener('click', () => this.call('POST', 'model', { model: this.model.value.trim() || null }));
    this.mode.addEventListener('change', () => this.call('POST', 'permission_mode', { mode: this.mode.value }));
  }

  path(suffix) {
    return `${this.api.session(this.id)}${suffix ? `/${suffix}` : ''}`;
  }

  // A control request; shows its error (409 busy, 404 closed, ...) and returns whether it worked.
  async call(method, suffix, body) {
    if (!this.id) return false;
    setText(this.error, '');
    try {
      await this.api.request(method, this.path(suffix), body);
      return true;
    } catch (error) {
      this.fail(error);
      return false;
    }
  }

  fail(error) {
    if (error.status === 401) this.onUnauthorized();
    else setText(this.error, error.detail || error.message);
  }

  // While a turn runs the message is queued (it runs after it); the reply comes when it has run.
  async send() {
    const text = this.message.value;
    if (!this.id || !text.trim()) return;
    this.message.value = '';
    setText(this.error, '');
    const id = this.id;
    const queued = this.root.dataset.status === 'running' || this.root.dataset.status === 'waiting_permission';
    if (queued) setTimeout(() => { if (this.id === id) this.queue.refresh(); }, 300);
    try {
      await this.api.post(this.path('messages'), { message: text, mode: 'queue' });
    } catch (error) {
      if (error.status === 409 && /cancelled before it ran/.test(error.detail || '')) return;  // cancelled here
      if (!this.message.value) this.message.value = text;  // nothing is lost
      this.fail(error);
    }
  }

  // "Forked from session <parent> at this message" (a link to it), or nothing.
  showForkedFrom(point) {
    this.forked.hidden = !point;
    if (!point) return this.forked.replaceChildren();
    const parent = this.store.sessions.get(point.session_id);
    const name = `session ${shortId(point.session_id)}${parent?.title ? ` — ${parent.title}` : ''}`;
    return this.forked.replaceChildren('Forked from ',
      el('a', { href: `#session=${point.session_id}&message=${point.message_id}`, class: 'forked-link' }, name),
      ` at message ${shortId(point.message_id)}`);
  }

  // Show and mark the message the URL names, once it is in the conversation.
  reveal() {
    if (!this.target) return;
    const item = this.conversation.find(this.target);
    if (!item) return;
    this.target = null;
    this.root.querySelectorAll('.conversation > li.target').forEach((node) => node.classList.remove('target'));
    item.classList.add('target');
    item.scrollIntoView?.({ block: 'center' });
  }

  // After a turn whose events did not name them all: the transcript's uuids for its prompt and
  // replies (their actions need them; a viewer has none, so nothing is read).
  async identify(id) {
    if (this.me()?.may_change === false) return;
    try {
      const history = await this.api.get(this.path('history'));
      if (this.id === id) this.conversation.attachIds(history.messages);
    } catch (error) {
      if (error.status === 401) this.onUnauthorized();
    }
  }

  setStatus(status) {
    setText(this.status, statusLabel(status));
    this.root.dataset.status = status;
  }

  open(id, messageId = null) {
    this.target = messageId;
    if (this.id === id) {
      this.reveal();
      return;
    }
    this.close();
    this.target = messageId;
    this.id = id;
    this.cwd = this.store.sessions.get(id)?.cwd ?? null;
    this.root.hidden = false;
    const entry = this.store.sessions.get(id);
    this.retitle();
    this.setStatus(entry?.status || '');
    this.model.value = entry?.model || '';
    if (entry?.permission_mode) this.mode.value = entry.permission_mode;
    setText(this.error, '');
    this.conversation.clear();
    this.queue.clear();
    this.showForkedFrom(entry?.forked_from ?? null);
    this.title.focus();  // keyboard and screen reader users land in the view they opened
    this.load(id);
  }

  // The status says where the session's events stand, and where the running turn began:
  // the stream starts there (every event after it is replayed, then live ones follow) and
  // holds its events until the history is shown; the turn's part of the history is then
  // replaced by its replay, so a page opened mid-turn shows the whole turn, nothing twice.
  async load(id) {
    let cursor = null;
    this.turnEventId = null;
    try {
      const now = await this.api.get(this.path('status'));
      this.turnEventId = now.turn_event_id ?? null;
      cursor = this.turnEventId !== null ? this.turnEventId - 1 : now.last_event_id;
      if (this.id === id) {
        this.cwd = now.cwd ?? null;
        this.queue.show(now.queued);
        this.showForkedFrom(now.forked_from ?? null);
      }
    } catch (error) {
      if (error.status === 401) return this.onUnauthorized();
      // else: the stream says what is wrong (404 closed, ...)
    }
    if (this.id !== id) return undefined;
    const held = [];
    let ready = false;
    const stream = this.api.stream(this.api.session(id) + '/events', {
      lastEventId: cursor,
      onMessage: (message) => {
        let event;
        try {
          event = JSON.parse(message.data);
        } catch {
          return false;  // not an event this page can read
        }
        if (!event || typeof event !== 'object') return false;
        if (ready) return this.event(event);
        held.push(event);
        return false;
      },
      onState: (state) => {
        if (this.id !== id) return;
        if (state === 'retrying') setText(this.error, RECONNECTING);
        else if (state === 'open' && this.error.textContent === RECONNECTING) setText(this.error, '');
      },
      onError: (error) => { if (this.id === id) this.fail(error); },
    });
    this.stream = stream;
    stream.run();
    try {
      const history = await this.api.get(this.path('history'));
      if (this.id === id) {
        this.conversation.history(history.messages);
        this.reveal();
      }
    } catch (error) {
      if (error.status === 401) this.onUnauthorized();
      // 404: no transcript yet (a session without messages)
    }
    if (this.id !== id) return undefined;
    ready = true;
    for (const event of held) {
      if (this.event(event)) { stream.stop(); break; }
    }
    return undefined;
  }

  // Returns true when the stream is over (the session was closed).
  event(event) {
    if (event.type === 'status') {
      this.stream?.resumeFrom(event.last_event_id);
      this.setStatus(event.status);
      if (event.current_model !== undefined) this.model.value = event.current_model || '';
      if (event.permission_mode) this.mode.value = event.permission_mode;
      const requests = Array.isArray(event.pending_permissions) ? event.pending_permissions : [];
      for (const request of requests) this.conversation.permission({ ...request, session_id: this.id });
      if (event.status === 'closed') {
        this.conversation.note('The session was closed.', 'error');
        return true;
      }
      return false;
    }
    if (event.type === 'permission_request') event.session_id = event.session_id || this.id;
    if (event.type === 'turn_started' && this.turnEventId !== null && Number(event.id) === this.turnEventId) {
      this.conversation.trimFrom(event.message);  // the history's copy of the turn: its replay follows
      this.turnEventId = null;
    }
    this.conversation.event(event);
    if (event.type === 'turn_started' || event.type === 'result') this.queue.refresh();
    if (event.type === 'result' && this.conversation.unidentified()) this.identify(this.id);  // events carry uuids
    return false;
  }

  close() {
    this.stream?.stop();
    this.stream = null;
    this.id = null;
    this.target = null;
    this.root.hidden = true;
  }
}
