// The actions on one message of a session's view: "Fork from here" on every prompt and reply
// (POST /sessions/{id}/fork with the message's uuid, then the fork opens) and "Undo changes
// from here" on a prompt (POST /sessions/{id}/rewind: the files the agent changed since it go
// back as they were; asked once more before it runs). Shown to callers who may change
// sessions; Undo is disabled, with the reason, when the server does not checkpoint files.

import { el, setText } from './dom.js';

export const NO_CHECKPOINTS = 'The server runs without file checkpointing (start it with --file-checkpointing to undo changes).';

// The files restored, relative to the session's directory when inside it.
function filesLine(files, cwd) {
  if (!files.length) return 'Nothing to undo: no file the agent changed since this message needed restoring.';
  const base = cwd ? `${cwd.replace(/\/+$/, '')}/` : null;
  const names = files.map((file) => (base && file.startsWith(base) ? file.slice(base.length) : file));
  return `Restored ${files.length} file${files.length === 1 ? '' : 's'}: ${names.join(', ')}`;
}

// context: {api, sessionId() -> id, cwd() -> its directory, me() -> GET /me's reply or null,
//           open(id), unauthorized()}
export function messageActions(context) {
  return (item, kind, uuid) => {
    const me = context.me();
    if (me && !me.may_change) return;
    item.querySelector(':scope > .message-actions')?.remove();
    const result = el('p', { class: 'muted action-result', role: 'status' });
    const error = el('p', { class: 'error', role: 'alert' });
    const fork = el('button', { type: 'button', class: 'fork' }, 'Fork from here');
    fork.addEventListener('click', () => forkAt(context, uuid, fork, error));
    const buttons = [fork];
    if (kind === 'user') {
      const checkpoints = me ? Boolean(me.features?.file_checkpointing) : true;
      const undo = el('button', { type: 'button', class: 'undo', disabled: !checkpoints, title: checkpoints ? null : NO_CHECKPOINTS },
        'Undo changes from here');
      undo.addEventListener('click', () => confirmUndo(context, uuid, actions, result, error));
      buttons.push(undo);
      if (!checkpoints) buttons.push(el('span', { class: 'muted reason' }, 'Undo needs file checkpointing'));
    }
    const actions = el('div', { class: 'message-actions' }, buttons);
    item.append(el('div', { class: 'message-actions-wrap' }, actions, result, error));
  };
}

async function forkAt(context, uuid, button, error) {
  const id = context.sessionId();
  if (!id) return;
  button.disabled = true;
  setText(error, '');
  setText(button, 'Forking…');
  try {
    const forked = await context.api.post(`${context.api.session(id)}/fork`, { at_message_id: uuid });
    context.open(forked.session_id);
  } catch (failure) {
    if (failure.status === 401) context.unauthorized();
    else setText(error, `Could not fork: ${failure.detail || failure.message}`);
  } finally {
    button.disabled = false;
    setText(button, 'Fork from here');
  }
}

// Undo rewrites files on disk: the buttons give way to a question and its two answers.
function confirmUndo(context, uuid, actions, result, error) {
  const kept = [...actions.children];
  const restore = () => actions.replaceChildren(...kept);
  const yes = el('button', { type: 'button', class: 'danger confirm-undo' }, 'Undo changes');
  const no = el('button', { type: 'button' }, 'Keep them');
  no.addEventListener('click', () => { restore(); kept[0]?.focus(); });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    no.disabled = true;
    setText(error, '');
    setText(result, 'Restoring…');
    try {
      const id = context.sessionId();
      const reply = await context.api.post(`${context.api.session(id)}/rewind`, { message_id: uuid });
      setText(result, filesLine(reply.files || [], context.cwd?.()));
    } catch (failure) {
      setText(result, '');
      if (failure.status === 401) context.unauthorized();
      else setText(error, `Could not undo (${failure.status}): ${failure.detail || failure.message}`);
    }
    restore();
  });
  actions.replaceChildren(el('span', {}, 'Restore every file the agent changed since this message?'), yes, no);
  yes.focus();
}
