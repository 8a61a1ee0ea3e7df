// Keyboard shortcuts (listed in the help dialog, "?"): j/k and Enter in the sessions
// list, "/" the status filter, "n" a new session, a/d to allow or deny the oldest
// permission request on screen, Escape back to the list. Keys typed into a field are
// the field's.

import { $ } from './dom.js';

const TYPING = 'input, textarea, select, [contenteditable=""], [contenteditable="true"]';

function visibleButton(name) {
  for (const item of document.querySelectorAll('#pending .permission, #conversation .permission')) {
    if (!item.offsetParent) continue;  // in a hidden view
    const button = item.querySelector(`button.${name}`);
    if (button && !button.disabled) return button;
  }
  return null;
}

function move(step) {
  const rows = [...document.querySelectorAll('#sessions tbody tr')];
  if (!rows.length) return;
  const current = rows.findIndex((row) => row.classList.contains('selected'));
  const next = rows[Math.min(rows.length - 1, Math.max(0, current < 0 ? 0 : current + step))];
  rows.forEach((row) => row.classList.toggle('selected', row === next));
  next.querySelector('a')?.focus();  // Enter on the focused link opens it
}

export function installShortcuts({ inSession, back }) {
  const help = $('#shortcuts');
  $('#help').addEventListener('click', () => help.showModal());
  $('#shortcuts-close').addEventListener('click', () => help.close());
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (event.target instanceof Element && event.target.closest(TYPING)) return;
    if (help.open) return;  // the dialog handles Escape itself
    const key = event.key;
    let handled = true;
    if (key === '?') help.showModal();
    else if (key === 'a' || key === 'd') visibleButton(key === 'a' ? 'allow' : 'deny')?.click();
    else if (key === 'Escape' && inSession()) back();
    else if (inSession()) handled = false;
    else if (key === 'j') move(1);
    else if (key === 'k') move(-1);
    else if (key === '/') $('#status-filter').focus();
    else if (key === 'n') $('#new-cwd').focus();
    else handled = false;
    if (handled) event.preventDefault();
  });
}
