// The sessions table: one row per session, newest activity first, filtered by status (and owner);
// a row (or its short id, a link) opens the session's view. Rows are kept and updated in
// place, so a redraw (on every event) keeps the keyboard's focus on a short id.

import { ago, el, reconcile, setText, shortId, shortPath, statusLabel, usd } from './dom.js';

function newRow(id) {
  return el('tr', { 'data-session-id': id },
    el('td', { class: 'title' }),
    el('td', { class: 'wide' }, el('a', { href: `#session=${id}`, class: 'short-id', title: id }, shortId(id))),
    el('td', { class: 'status' }, el('span', { class: 'badge' })),
    el('td', { class: 'model wide' }),
    el('td', { class: 'cwd wide' }),
    el('td', { class: 'number wide' }),
    el('td', { class: 'number' }),
    el('td', { class: 'owner wide' }),
    el('td', { class: 'ago' }));
}

function update(row, s) {
  const [title, , status, model, cwd, turns, cost, owner, activity] = row.children;
  row.classList.remove(...[...row.classList].filter((name) => name.startsWith('status-')));
  row.classList.add(`status-${s.status}`);
  setText(title, s.title || '(no messages yet)');
  const badge = status.firstElementChild;
  badge.className = `badge ${s.status}`;
  setText(badge, statusLabel(s.status));
  setText(model, s.model || 'default');
  cwd.title = s.cwd || '';
  setText(cwd, shortPath(s.cwd));
  setText(turns, String(s.turns ?? 0));
  setText(cost, usd(s.cost_usd));
  setText(owner, s.owner || '—');
  activity.dataset.since = s.last_activity || '';
  activity.title = s.last_activity || '';
  setText(activity, ago(s.last_activity));
  return row;
}

export function renderSessions(tbody, empty, store, filter, owner = null) {
  const shown = new Map([...tbody.children].map((row) => [row.dataset.sessionId, row]));
  const sessions = [...store.sessions.values()]
    .filter((s) => (!filter || s.status === filter) && (!owner || s.owner === owner))
    .sort((a, b) => String(b.last_activity).localeCompare(String(a.last_activity)));
  reconcile(tbody, sessions.map((s) => update(shown.get(s.session_id) || newRow(s.session_id), s)));
  setText(empty, store.sessions.size ? 'No session matches the filters.' : 'No sessions yet.');
  empty.hidden = sessions.length > 0;
}

// Clicking anywhere in a row opens its session.
export function onRowClick(tbody, open) {
  tbody.addEventListener('click', (event) => {
    const row = event.target.closest('tr[data-session-id]');
    if (row && !event.target.closest('a')) open(row.dataset.sessionId);
  });
}
