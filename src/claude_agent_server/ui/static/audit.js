// The audit view (admins; /ui#audit): GET /audit filtered by user, session, action and time,
// newest first, a page at a time ("Older entries" asks for the rows before the last shown).

import { $, el, setText, shortId } from './dom.js';

const PAGE = 50;

// A datetime-local value (the browser's local time) as ISO-8601 UTC; '' stays ''.
function instant(local) {
  if (!local) return '';
  const moment = new Date(local);
  return Number.isNaN(moment.getTime()) ? '' : moment.toISOString();
}

function row(entry) {
  const session = entry.session_id
    ? el('a', { href: `#session=${entry.session_id}`, class: 'short-id', title: entry.session_id }, shortId(entry.session_id))
    : '—';
  return el('tr', { class: entry.status >= 400 ? 'refused' : null },
    el('td', { class: 'at', title: entry.at }, new Date(entry.at).toLocaleString()),
    el('td', {}, entry.user ?? '—'),
    el('td', {}, el('code', {}, entry.action)),
    el('td', { class: 'path' }, `${entry.method} ${entry.path}`),
    el('td', {}, session),
    el('td', { class: 'number status' }, String(entry.status)),
    el('td', { class: 'wide' }, entry.client ?? '—'),
    el('td', { class: 'wide' }, entry.key_id ?? '—'));
}

export class AuditView {
  constructor(root, api, { unauthorized }) {
    this.root = root;
    this.api = api;
    this.unauthorized = unauthorized;
    this.form = $('#audit-filters', root);
    this.body = $('#audit-table tbody', root);
    this.more = $('#audit-more', root);
    this.state = $('#audit-state', root);
    this.error = $('#audit-error', root);
    this.next = null;
    this.asked = 0;
    this.form.addEventListener('submit', (event) => { event.preventDefault(); this.load(); });
    this.more.addEventListener('click', () => this.load(this.next));
  }

  query(before) {
    const params = new URLSearchParams();
    const fields = { user: '#audit-user', session_id: '#audit-session', action: '#audit-action' };
    for (const [name, selector] of Object.entries(fields)) {
      const value = $(selector, this.root).value.trim();
      if (value) params.set(name, value);
    }
    const since = instant($('#audit-since', this.root).value);
    const until = instant($('#audit-until', this.root).value);
    if (since) params.set('since', since);
    if (until) params.set('until', until);
    if (before) params.set('before', String(before));
    params.set('limit', String(PAGE));
    return params.toString();
  }

  // The first page for the filters (before: null), or the page after the rows shown.
  async load(before = null) {
    const asked = ++this.asked;
    setText(this.error, '');
    setText(this.state, 'Loading…');
    this.more.disabled = true;
    try {
      const page = await this.api.get(`/audit?${this.query(before)}`);
      if (asked !== this.asked) return;
      const rows = page.entries.map(row);
      if (before) this.body.append(...rows);
      else this.body.replaceChildren(...rows);
      this.next = page.next_before ?? null;
      this.more.hidden = this.next === null;
      const count = this.body.children.length;
      setText(this.state, count ? `${count} entr${count === 1 ? 'y' : 'ies'} shown, newest first` : 'No entry matches these filters.');
    } catch (error) {
      if (asked !== this.asked) return;
      setText(this.state, '');
      if (error.status === 401) this.unauthorized();
      else setText(this.error, error.detail || error.message);
    } finally {
      this.more.disabled = false;
    }
  }
}
