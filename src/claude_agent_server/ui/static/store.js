// What the dashboard knows about the server: sessions by id and pending permission
// requests by request id, kept current by the global event stream (GET /events).

export class Store extends EventTarget {
  constructor() {
    super();
    this.sessions = new Map();
    this.pending = new Map();
    this.replay = null;  // events seen while a reload is in flight, applied again after it
    this.covered = null;  // events with an id up to this one are in the reading a reload takes
    this.stale = false;  // a reload's reading may already hold a turn's result: read again
  }

  // A (re)connection's snapshot: every event up to `lastEventId` happened before the
  // reload that follows reads the server, so a replay of them (Last-Event-ID) is skipped
  // instead of being counted twice.
  since(lastEventId) {
    const id = Number(lastEventId);
    this.covered = Number.isFinite(id) ? id : null;
  }

  changed() {
    this.dispatchEvent(new Event('change'));
  }

  beginReload() {
    this.replay = [];
  }

  // Replace everything with a fresh reading (GET /sessions and each busy session's
  // /status), then re-apply the events that arrived while it was read.
  finishReload(sessions, pending) {
    const replay = this.replay || [];
    this.replay = null;
    this.sessions = new Map(sessions.map((s) => [s.session_id, s]));
    this.pending = new Map(pending.map((p) => [p.request_id, p]));
    for (const event of replay) this.apply(event, false, true);
    this.changed();
  }

  abortReload() {
    this.replay = null;
  }

  // Apply one event of the global stream; returns false when the store cannot follow it
  // (a session it does not know, a session_created without its entry): the caller
  // reloads. `replayed`: an event that arrived during a reload, whose reading may already
  // count it; a result among them sets `stale` (the caller reads once more) instead.
  apply(event, notify = true, replayed = false) {
    if (!event || typeof event !== 'object' || typeof event.type !== 'string') return true;
    if (this.covered !== null && Number(event.id) <= this.covered) return true;
    if (this.replay) this.replay.push(event);
    const id = event.session_id;
    const session = id ? this.sessions.get(id) : undefined;
    let known = true;
    switch (event.type) {
      case 'session_created':
        if (event.session && typeof event.session === 'object' && event.session.session_id) {
          this.sessions.set(event.session.session_id, event.session);
        } else known = false;
        break;
      case 'session_deleted':
        this.forget(id);
        break;
      case 'session_status':
        if (event.state === 'closed' || event.status === 'closed') this.forget(id);
        else if (session) Object.assign(session, { status: event.status, state: event.state });
        else known = false;
        break;
      case 'turn_started':
        if (session) {
          session.last_activity = event.created_at;
          session.title = session.title || event.message;
        }
        break;
      case 'result':
        if (replayed) this.stale = true;  // the reading may or may not count it: read again
        else if (session) {
          session.turns = (session.turns || 0) + 1;
          session.cost_usd = (session.cost_usd || 0) + (Number(event.turn_cost_usd) || 0);
          session.last_activity = event.created_at;
        }
        break;
      case 'permission_request':
        if (event.request_id && id) this.pending.set(event.request_id, event);
        break;
      case 'permission_resolved':
        this.pending.delete(event.request_id);
        break;
      default:
        if (session && event.type !== 'text_delta') session.last_activity = event.created_at;
    }
    if (notify && event.type !== 'text_delta') this.changed();
    return known;
  }

  forget(id) {
    this.sessions.delete(id);
    for (const [requestId, request] of this.pending) {
      if (request.session_id === id) this.pending.delete(requestId);
    }
  }

  pendingOf(id) {
    return [...this.pending.values()].filter((p) => p.session_id === id);
  }
}
