// The dashboard: sign-in, then its views: the list (the pending permissions, the stats
// strip, the sessions table live from GET /events, the New session form, the activity
// charts), a session's own view (#session=<id>, or #session=<id>&message=<uuid> to show one
// of its messages; back returns to the list as it was) and, for admins, the audit log
// (#audit). GET /me says who signed in: admins and viewers see every session, with an
// owner filter; members their own.

import { $, ago, setText, waited } from './dom.js';
import { Activity } from './activity.js';
import { AuditView } from './audit.js';
import { OwnerFilter } from './owners.js';
import { Notifier } from './notify.js';
import { installShortcuts } from './shortcuts.js';
import { Api, forgetKey, storeKey, storedKey } from './api.js';
import { Store } from './store.js';
import { renderPending } from './permissions.js';
import { onRowClick, renderSessions } from './sessions-table.js';
import { renderStats } from './stats.js';
import { SessionView } from './session-view.js';

const INVALID_KEY = 'Invalid API key';
const STATS_EVERY = 5000;
const ACTIVITY_EVERY = 60_000;
const TABLE_LIMIT = 1000;  // the most GET /sessions gives at once: the table shows the newest this many
const RELOAD_STALE = 1000;
const SESSION_HASH = /^#session=([0-9a-fA-F-]{36})(?:&message=([0-9a-fA-F-]{36}))?$/;
const AUDIT_HASH = '#audit';

class Dashboard {
  constructor() {
    this.api = new Api(storedKey());
    this.store = new Store();
    this.events = null;
    this.timers = [];
    this.statsQueued = null;
    this.reloading = false;
    this.reloadAgain = false;
    this.listScroll = 0;  // the list's scroll position while a session is open
    this.activity = new Activity(this.api);
    this.activityQueued = null;
    this.notifier = new Notifier(this.store);
    this.me = null;  // GET /me: {user, role, sees_all, may_change, features}
    this.view = new SessionView($('#session-view'), this.api, this.store, {
      onUnauthorized: () => this.signOut(INVALID_KEY),
      onClosed: () => { window.location.hash = ''; },
      me: () => this.me,
    });
    this.audit = new AuditView($('#audit-view'), this.api, { unauthorized: () => this.signOut(INVALID_KEY) });
    this.owners = new OwnerFilter($('#owner-filter'), document.querySelectorAll('.owner-filter'));
    this.wire();
  }

  wire() {
    $('#signin-form').addEventListener('submit', (event) => { event.preventDefault(); this.signIn($('#api-key').value); });
    $('#sign-out').addEventListener('click', () => this.signOut(''));
    $('#status-filter').addEventListener('change', () => this.render());
    $('#owner-filter').addEventListener('change', () => { this.render(); this.reload(); });
    $('#new-session').addEventListener('submit', (event) => { event.preventDefault(); this.create(); });
    onRowClick($('#sessions tbody'), (id) => { window.location.hash = `session=${id}`; });
    window.addEventListener('hashchange', () => this.route());
    this.store.addEventListener('change', () => { this.render(); this.queueStats(); this.notifier.update(); });
    installShortcuts({ inSession: () => !$('#session-view').hidden || !$('#audit-view').hidden, back: () => { window.location.hash = ''; } });
  }

  async boot() {
    try {
      await this.api.get('/stats');
    } catch (error) {
      if (error.status === 401) {
        const stale = Boolean(this.api.key);
        forgetKey();
        this.api.key = null;
        return this.showSignIn(stale ? INVALID_KEY : '');
      }
      return this.showSignIn(`The server did not answer: ${error.message}`);
    }
    return this.start();
  }

  async signIn(key) {
    const candidate = new Api(key.trim());
    try {
      await candidate.get('/stats');
    } catch (error) {
      return this.showSignIn(error.status === 401 ? INVALID_KEY : `The server did not answer: ${error.message}`);
    }
    storeKey(candidate.key);
    this.api.key = candidate.key;
    $('#api-key').value = '';
    return this.start();
  }

  signOut(message) {
    forgetKey();
    this.api.key = null;
    this.stop();
    this.showSignIn(message);
  }

  showSignIn(message) {
    $('#dashboard').hidden = true;
    $('#sign-out').hidden = true;
    $('#signin').hidden = false;
    setText($('#signin-error'), message);
    $('#api-key').focus();
  }

  // Who signed in (GET /me); a server without that route: a member's view, every control shown.
  async whoAmI() {
    try {
      this.me = await this.api.get('/me');
    } catch (error) {
      this.me = null;
      if (error.status === 401) return false;
    }
    const me = this.me;
    setText($('#whoami'), me?.user ? `${me.user} (${me.role})` : '');
    $('#audit-link').hidden = me?.role !== 'admin';
    this.owners.enable(Boolean(me?.sees_all));
    if (me?.role === 'admin') {
      this.api.get('/admin/users').then(({ users }) => this.owners.add(users.map((u) => u.name))).catch(() => {});
    }
    return true;
  }

  async start() {
    $('#signin').hidden = true;
    $('#dashboard').hidden = false;
    $('#sign-out').hidden = !this.api.key;
    if (!await this.whoAmI()) return this.signOut(INVALID_KEY);
    this.follow();
    this.refreshStats();
    this.timers.push(setInterval(() => this.refreshStats(), STATS_EVERY));
    this.timers.push(setInterval(() => this.tick(), 1000));
    this.refreshActivity();
    this.timers.push(setInterval(() => this.refreshActivity(), ACTIVITY_EVERY));
    return this.route();
  }

  stop() {
    this.events?.stop();
    this.events = null;
    this.view.close();
    this.timers.forEach(clearInterval);
    this.timers = [];
    clearTimeout(this.statsQueued);  // else it would ask without a key and report "Invalid API key"
    this.statsQueued = null;
    clearTimeout(this.activityQueued);
    this.activityQueued = null;
    this.me = null;
    this.owners.reset();
  }

  // The global stream: each connection starts with a snapshot, on which the state is
  // read afresh; then every event updates it.
  follow() {
    const connection = $('#connection');
    this.events = this.api.stream('/events', {
      onMessage: (message) => {
        let event;
        try {
          event = JSON.parse(message.data);
        } catch {
          return false;  // not an event this page can read (heartbeats carry no data)
        }
        if (event?.type === 'snapshot') {
          this.events.resumeFrom(event.last_event_id);
          this.store.since(event.last_event_id);
          this.reload();
        } else {
          if (!this.store.apply(event)) this.reload();
          if (event?.type === 'result') this.queueActivity();
        }
        return false;
      },
      onState: (state, seconds) => setText(connection,
        state === 'open' ? 'live' : state === 'retrying' ? `disconnected; retrying in ${seconds} s` : 'stopped'),
      onError: (error) => {
        if (error.status === 401) this.signOut(INVALID_KEY);
        else setText(connection, `stopped: ${error.detail}`);
      },
    });
    this.events.run();
  }

  // Read the sessions and the pending requests afresh. Asked again while one is in flight
  // (a reconnection's snapshot), it reads once more when that one ends, so the reading
  // always starts after the snapshot that asked for it.
  async reload() {
    if (this.reloading) {
      this.reloadAgain = true;
      return;
    }
    this.reloading = true;
    try {
      do {
        this.reloadAgain = false;
        this.store.stale = false;
        if (!await this.readAll()) return;
      } while (this.reloadAgain && this.events);
      if (this.store.stale) setTimeout(() => { if (this.events) this.reload(); }, RELOAD_STALE);  // a result came during the reading
    } finally {
      this.reloading = false;
    }
  }

  async readAll() {
    this.store.beginReload();
    try {
      const owner = this.owners.value();
      const { sessions } = await this.api.get(`/sessions?limit=${TABLE_LIMIT}${owner ? `&owner=${encodeURIComponent(owner)}` : ''}`);
      const busy = sessions.filter((s) => s.status === 'waiting_permission' || s.status === 'running');
      const statuses = await Promise.all(busy.map((s) => this.api.get(`${this.api.session(s.session_id)}/status`).catch(() => null)));
      const pending = statuses.filter(Boolean).flatMap((s) => s.pending_permissions.map((p) => ({ ...p, session_id: s.session_id })));
      this.store.finishReload(sessions, pending);
      return true;
    } catch (error) {
      this.store.abortReload();
      if (error.status === 401) this.signOut(INVALID_KEY);
      return false;
    }
  }

  render() {
    this.owners.add([...this.store.sessions.values()].map((s) => s.owner));
    renderSessions($('#sessions tbody'), $('#sessions-empty'), this.store, $('#status-filter').value, this.owners.value());
    $('#sessions-more').hidden = this.store.sessions.size < TABLE_LIMIT;
    renderPending($('#pending'), $('#pending-empty'), this.store, (request, allowed, always) =>
      this.api.respond(request.session_id, request.request_id, allowed, always));
  }

  tick() {
    const now = Date.now();
    document.querySelectorAll('.waited[data-since]').forEach((node) => setText(node, waited(node.dataset.since, now)));
    document.querySelectorAll('.ago[data-since]').forEach((node) => setText(node, ago(node.dataset.since, now)));
  }

  queueStats() {
    if (this.statsQueued) return;
    this.statsQueued = setTimeout(() => { this.statsQueued = null; this.refreshStats(); }, 500);
  }

  queueActivity() {
    if (this.activityQueued) return;
    this.activityQueued = setTimeout(() => { this.activityQueued = null; this.refreshActivity(); }, 1000);
  }

  async refreshActivity() {
    const error = await this.activity.refresh();
    if (error?.status === 401) this.signOut(INVALID_KEY);
  }

  async refreshStats() {
    try {
      renderStats($('#stats-list'), await this.api.get('/stats'));
    } catch (error) {
      if (error.status === 401) this.signOut(INVALID_KEY);
    }
  }

  async create() {
    const form = $('#new-session');
    const button = $('button[type=submit]', form);
    const body = {
      cwd: $('#new-cwd').value.trim() || null,
      model: $('#new-model').value.trim() || null,
      permission_mode: $('#new-mode').value || null,
    };
    setText($('#new-error'), '');
    button.disabled = true;
    setText($('#new-state'), 'Starting…');
    try {
      const created = await this.api.post('/ui/sessions', body);
      window.location.hash = `session=${created.session_id}`;
    } catch (error) {
      if (error.status === 401) this.signOut(INVALID_KEY);
      else setText($('#new-error'), error.detail || error.message);
    } finally {
      button.disabled = false;
      setText($('#new-state'), '');
    }
  }

  // The view the URL names: a session's (the list hidden, its scroll position kept), the
  // audit log (admins), or the list.
  route() {
    if ($('#dashboard').hidden) return;
    const match = SESSION_HASH.exec(window.location.hash);
    const audit = window.location.hash === AUDIT_HASH && this.me?.role === 'admin';
    const list = $('#list-view');
    if (!list.hidden && (match || audit)) this.listScroll = window.scrollY;
    const auditView = $('#audit-view');
    if (audit && auditView.hidden) {
      auditView.hidden = false;
      $('#audit-title').focus();
      this.audit.load();
    } else if (!audit) auditView.hidden = true;
    if (match) {
      list.hidden = true;
      this.view.open(match[1].toLowerCase(), match[2]?.toLowerCase() ?? null);
    } else if (audit) {
      list.hidden = true;
      this.view.close();
    } else {
      const wasOpen = list.hidden;
      this.view.close();
      list.hidden = false;
      if (wasOpen) {
        window.scrollTo(0, this.listScroll);
        this.activity.cost.resize();  // drawn while hidden: measure again
        this.activity.turns.resize();
      }
    }
  }
}

new Dashboard().boot();
