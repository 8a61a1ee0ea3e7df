// The sessions table: one row per session, newest activity first, filtered by status;
// a row (or its short id, a link) opens the session's view.

import { ago, el, shortId, shortPath, statusLabel, usd } from './dom.js';

export function renderSessions(tbody, empty, store, filter) {
  const sessions = [...store.sessions.values()]
    .filter((s) => !filter || s.status === filter)
    .sort((a, b) => String(b.last_activity).localeCompare(String(a.last_activity)));
  tbody.replaceChildren(...sessions.map((s) => el('tr', { 'data-session-id': s.session_id, class: `status-${s.status}` },
    el('td', { class: 'title' }, s.title || '(no messages yet)'),
    el('td', {}, el('a', { href: `#session=${s.session_id}`, class: 'short-id', title: s.session_id }, shortId(s.session_id))),
    el('td', { class: 'status' }, el('span', { class: `badge ${s.status}` }, statusLabel(s.status))),
    el('td', {}, s.model || 'default'),
    el('td', { class: 'cwd', title: s.cwd || '' }, shortPath(s.cwd)),
    el('td', { class: 'number' }, String(s.turns ?? 0)),
    el('td', { class: 'number' }, usd(s.cost_usd)),
    el('td', { class: 'ago', 'data-since': s.last_activity, title: s.last_activity || '' }, ago(s.last_activity)),
  )));
  empty.hidden = sessions.length > 0;
}

// Clicking anywhere in a row opens its session.
export function onRowClick(tbody, open) {
  tbody.addEventListener('click', (event) => {
    const row = event.target.closest('tr[data-session-id]');
    if (row && !event.target.closest('a')) open(row.dataset.sessionId);
  });
}
