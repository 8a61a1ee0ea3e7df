// A pending permission request as a list item with Allow, Deny and Always allow: used
// by the panel of every session's requests and inline in a session's conversation.

import { el, reconcile, shortId, waited } from './dom.js';
import { suggestionLines, toolPreview } from './preview.js';

// answer(request, allowed, applySuggestions) -> Promise; rejects with an HttpError.
// inCard: shown inside its tool call's card, which already shows the command or the diff.
export function permissionItem(request, { sessionTitle = null, answer, showSession = true, inCard = false, tag = 'li' }) {
  const preview = toolPreview(request.tool_name, request.tool_input);
  const rules = suggestionLines(request.suggestions);
  const error = el('p', { class: 'error', role: 'alert' });
  const waitedText = el('span', { class: 'waited', 'data-since': request.created_at }, waited(request.created_at));
  const buttons = [
    el('button', { type: 'button', class: 'allow' }, 'Allow'),
    el('button', { type: 'button', class: 'deny' }, 'Deny'),
    el('button', { type: 'button', class: 'always' }, 'Always allow'),
  ];
  const choices = [[true, false], [false, false], [true, true]];
  buttons.forEach((button, index) => {
    button.addEventListener('click', async () => {
      buttons.forEach((b) => { b.disabled = true; });
      error.textContent = '';
      try {
        await answer(request, ...choices[index]);
      } catch (failure) {
        error.textContent = failure.status === 404 ? 'Already answered or expired.' : `Could not answer: ${failure.detail || failure.message}`;
        if (failure.status !== 404) buttons.forEach((b) => { b.disabled = false; });
      }
    });
  });
  const where = showSession
    ? el('span', { class: 'where' }, ' in ',
      el('a', { href: `#session=${request.session_id}` }, sessionTitle ? `${sessionTitle} (${shortId(request.session_id)})` : shortId(request.session_id)))
    : null;
  return el(tag, { class: 'permission', 'data-request-id': request.request_id, role: tag === 'li' ? null : 'group', 'aria-label': `Permission request: ${request.tool_name || 'tool'}` },
    el('div', { class: 'permission-head' },
      el('strong', { class: 'tool' }, inCard ? 'Permission needed' : request.tool_name || 'tool'),
      where,
      el('span', { class: 'muted' }, ' · waiting '), waitedText),
    !inCard && preview.subject ? el('code', { class: `subject ${preview.kind}` }, preview.subject) : null,
    !inCard && preview.body ? el('pre', { class: `preview ${preview.kind}` }, preview.body) : null,
    request.decision_reason ? el('p', { class: 'muted' }, request.decision_reason) : null,
    rules.length ? el('p', { class: 'muted rules' }, `Always allow adds: ${rules.join('; ')}`) : null,
    el('div', { class: 'actions' }, buttons),
    error);
}

// Bring the panel up to date, oldest request first; items already shown are kept in place
// (with their state: a click in flight, an error, the keyboard's focus), so a redraw never
// loses an answer.
export function renderPending(list, empty, store, answer) {
  const shown = new Map([...list.children].map((item) => [item.dataset.requestId, item]));
  const requests = [...store.pending.values()].sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
  reconcile(list, requests.map((request) => shown.get(request.request_id) || permissionItem(request, {
    sessionTitle: store.sessions.get(request.session_id)?.title || null,
    answer,
  })));
  empty.hidden = requests.length > 0;
}
