// A session's conversation as DOM nodes: the transcript's messages (GET .../history) and
// the live events (text as it streams, Markdown rendered to nodes; each tool call as one
// card by tool, holding its result collapsed and its permission request with the
// buttons; thinking dimmed; the turn's end). Nothing from the agent is parsed as HTML.
// A prompt and a reply whose transcript uuid is known carry it (`data-uuid`) and the
// actions `decorate(item, kind, uuid)` gives them (fork, undo); live ones get theirs from their
// events (`turn_started.user_message_uuid`, `assistant_message.uuid`), or, for events that lack
// them, from the transcript once their turn has ended (`attachIds`).

import { el, usd } from './dom.js';
import { markdown } from './markdown.js';
import { permissionItem } from './permissions.js';
import { toolPreview } from './preview.js';

const CLI_MADE = /^<(system-reminder|command-|local-command|user-prompt-submit-hook)/;

function resultText(content) {
  if (Array.isArray(content)) return content.map((c) => (c && typeof c === 'object' ? c.text ?? '' : String(c))).join('\n');
  if (content === null || content === undefined) return '';
  return typeof content === 'object' ? JSON.stringify(content, null, 2) : String(content);
}

// The prompts and replies of transcript `messages`, in order: [{kind, text, uuid}], as
// `history` shows them (CLI-made prompts left out).
function messageItems(messages) {
  const items = [];
  for (const entry of messages || []) {
    const message = entry.message || {};
    const role = message.role || entry.type;
    const blocks = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content || [];
    for (const block of blocks) {
      if (!block || block.type !== 'text') continue;
      const text = block.text ?? block.content;
      if (role === 'user' && (!text || CLI_MADE.test(text))) continue;
      items.push({ kind: role === 'user' ? 'user' : 'assistant', text: text ?? '', uuid: entry.uuid });
    }
  }
  return items;
}

export class Conversation {
  constructor(list, answer, decorate = null) {
    this.list = list;
    this.answer = answer;
    this.decorate = decorate;  // (item, kind, uuid) -> void: a message's actions
    this.streaming = null;  // the text block being streamed (text_delta), replaced by the assistant_message
    this.streamed = '';  // its text so far
    this.redraw = 0;  // a queued re-render of the streamed Markdown (animation frame)
    this.permissions = new Map();  // request_id -> its item
    this.cards = new Map();  // tool_use_id -> the tool call's card
  }

  clear() {
    this.list.replaceChildren();
    this.endStreaming(true);
    this.permissions.clear();
    this.cards.clear();
  }

  // Remove the last prompt `message` and everything after it (the running turn as the
  // transcript had it, when its events are about to be replayed).
  trimFrom(message) {
    const prompts = [...this.list.querySelectorAll(':scope > li.user')].reverse();
    const start = prompts.find((item) => item.querySelector('.text')?.textContent === message);
    if (!start) return;
    while (start.nextSibling) start.nextSibling.remove();
    start.remove();
    for (const map of [this.cards, this.permissions]) {
      for (const [key, node] of map) if (!node.isConnected) map.delete(key);
    }
  }

  add(node) {
    this.list.append(node);
    node.scrollIntoView?.({ block: 'nearest' });
    return node;
  }

  user(text, uuid) {
    if (!text || CLI_MADE.test(text)) return;
    this.message(el('li', { class: 'user' }, el('span', { class: 'who' }, 'You'), el('div', { class: 'text' }, text)), 'user', text, uuid);
  }

  text(text, uuid) {
    this.message(el('li', { class: 'assistant' }, el('span', { class: 'who' }, 'Agent'), markdown(text)), 'assistant', text, uuid);
  }

  message(item, kind, text, uuid) {
    item.raw = text;
    this.add(item);
    if (uuid) this.identify(item, kind, uuid);
  }

  identify(item, kind, uuid) {
    item.dataset.uuid = uuid;
    this.decorate?.(item, kind, uuid);
  }

  // Give the prompts and replies shown without a uuid (live ones) theirs from the transcript's
  // `messages`: the n-th prompt (reply) shown is the transcript's n-th, if its text is the same.
  attachIds(messages) {
    const wanted = messageItems(messages);
    for (const kind of ['user', 'assistant']) {
      const known = wanted.filter((m) => m.kind === kind);
      const shown = [...this.list.querySelectorAll(`:scope > li.${kind}:not(.streaming)`)];
      shown.forEach((item, index) => {
        const match = known[index];
        if (!match || item.dataset.uuid || item.raw !== match.text) return;
        this.identify(item, kind, match.uuid);
      });
    }
  }

  // Whether a prompt or reply is shown without its uuid (events from before the server sent them).
  unidentified() {
    return this.list.querySelector(':scope > li.user:not([data-uuid]), :scope > li.assistant:not(.streaming):not([data-uuid])') !== null;
  }

  find(uuid) {
    return [...this.list.querySelectorAll(':scope > li[data-uuid]')].find((item) => item.dataset.uuid === uuid) ?? null;
  }

  thinking(text) {
    this.add(el('li', { class: 'thinking' }, el('span', { class: 'who' }, 'Thinking'), el('div', { class: 'text' }, text)));
  }

  // A tool call as a card: what it is about (the command, the path, a diff), its input
  // collapsed; its result and its permission request go inside it when they come.
  toolUse(name, input, id) {
    const preview = toolPreview(name, input);
    const card = el('li', { class: `tool-use tool-${String(name ?? 'unknown').replace(/\W+/g, '-')}` },
      el('span', { class: 'who' }, name ?? 'tool'),
      preview.subject ? el('code', { class: `subject ${preview.kind}` }, preview.subject) : null,
      preview.body && preview.kind === 'command' ? el('p', { class: 'muted description' }, preview.body) : null,
      preview.body && preview.kind !== 'command' ? el('pre', { class: `preview ${preview.kind}` }, preview.body) : null,
      preview.kind === 'json' ? null
        : el('details', { class: 'input' }, el('summary', {}, 'Input'), el('pre', {}, JSON.stringify(input ?? {}, null, 2))));
    if (id) {
      card.dataset.toolUseId = id;
      this.cards.set(id, card);
      const waiting = [...this.permissions.values()].find((item) => item.dataset.toolUseId === id);
      if (waiting) {  // the request came before the call's message: it moves into the card
        const moved = this.permissionNode(waiting.request, 'div');
        this.permissions.set(waiting.request.request_id, moved);
        waiting.remove();
        card.append(moved);
      }
    }
    this.add(card);
  }

  toolResult(content, isError, id) {
    const text = resultText(content);
    const lines = text === '' ? 0 : text.split('\n').length;
    const output = el('details', { class: isError ? 'output error' : 'output' },
      el('summary', {}, `${isError ? 'Error' : 'Output'} (${lines} line${lines === 1 ? '' : 's'})`),
      el('pre', {}, text));
    const card = id ? this.cards.get(id) : null;
    if (card) card.append(output);
    else this.add(el('li', { class: isError ? 'tool-result error' : 'tool-result' }, output));
  }

  note(text, kind = 'note') {
    this.add(el('li', { class: kind }, text));
  }

  // One block of the transcript or of an assistant_message (SDK or reply-item shape).
  block(block, role, uuid) {
    if (!block || typeof block !== 'object') return;
    switch (block.type) {
      case 'text':
        if (role === 'user') this.user(block.text ?? block.content, uuid);
        else this.text(block.text ?? block.content ?? '', uuid);
        break;
      case 'thinking':
        this.thinking(block.thinking ?? block.content ?? '');
        break;
      case 'tool_use':
        this.toolUse(block.name ?? block.tool_name, block.input ?? block.tool_input, block.id ?? block.tool_use_id);
        break;
      case 'tool_result':
        this.toolResult(block.content, block.is_error, block.tool_use_id);
        break;
      default:
    }
  }

  history(messages) {
    for (const entry of messages || []) {
      const message = entry.message || {};
      const role = message.role || entry.type;
      if (typeof message.content === 'string') {
        if (role === 'user') this.user(message.content, entry.uuid);
        else this.text(message.content, entry.uuid);
      } else {
        for (const block of message.content || []) this.block(block, role, entry.uuid);
      }
    }
  }

  // One event of the session's stream.
  event(event) {
    switch (event.type) {
      case 'turn_started':
        this.user(event.message, event.user_message_uuid);
        break;
      case 'text_delta':
        if (event.parent_tool_use_id) break;
        if (!this.streaming) {
          this.streaming = this.add(el('li', { class: 'assistant streaming' },
            el('span', { class: 'who' }, 'Agent'), markdown('')));
        }
        this.streamed += event.text ?? '';
        this.redraw ||= requestAnimationFrame(() => this.drawStreamed());
        break;
      case 'assistant_message':
        this.endStreaming(true);
        for (const item of event.content || []) this.block(item, 'assistant', event.parent_tool_use_id ? undefined : event.uuid);
        if (event.error) this.note(`Model error: ${event.error}`, 'error');
        break;
      case 'tool_result':
        this.toolResult(event.content, event.is_error, event.tool_use_id);
        break;
      case 'permission_request':
        this.permission(event);
        break;
      case 'permission_resolved':
        this.resolved(event);
        break;
      case 'result':
        this.endStreaming();
        this.note(this.ending(event), event.is_error ? 'error' : 'turn-end');
        break;
      case 'error':
        this.endStreaming();
        this.note(`Error: ${event.message ?? 'the turn failed'}`, 'error');
        break;
      default:
    }
  }

  ending(result) {
    const aborted = String(result.terminal_reason || '').startsWith('aborted');
    const parts = [aborted ? 'Interrupted' : result.is_error ? `Error: ${result.result ?? ''}` : 'Done'];
    if (result.turn_cost_usd !== undefined) parts.push(usd(result.turn_cost_usd));
    if (result.duration_ms !== undefined) parts.push(`${(result.duration_ms / 1000).toFixed(1)} s`);
    return parts.join(' · ');
  }

  // replaced: an assistant_message holding the whole text follows; otherwise (an
  // interrupted turn) the streamed text stays as it was.
  endStreaming(replaced = false) {
    if (this.streaming) {
      if (replaced) this.streaming.remove();
      else {
        this.drawStreamed();
        this.streaming.classList.remove('streaming');
      }
      this.streaming = null;
    }
    cancelAnimationFrame(this.redraw);
    this.redraw = 0;
    this.streamed = '';
  }

  // The streamed text as Markdown, at most once a frame.
  drawStreamed() {
    this.redraw = 0;
    if (!this.streaming) return;
    this.streaming.lastChild.replaceWith(markdown(this.streamed));
    this.streaming.scrollIntoView?.({ block: 'nearest' });
  }

  // A permission request, once: inside its tool call's card (whose preview it does not
  // repeat), or as an item of its own until that card comes.
  permission(request) {
    if (!request?.request_id || this.permissions.has(request.request_id)) return;
    const card = request.tool_use_id ? this.cards.get(request.tool_use_id) : null;
    const item = this.permissionNode(request, card ? 'div' : 'li');
    this.permissions.set(request.request_id, item);
    if (card) {
      card.append(item);
      card.scrollIntoView?.({ block: 'nearest' });
    } else this.add(item);
  }

  permissionNode(request, tag) {
    const item = permissionItem(request, { answer: this.answer, showSession: false, inCard: tag === 'div', tag });
    item.request = request;
    if (request.tool_use_id) item.dataset.toolUseId = request.tool_use_id;
    return item;
  }

  resolved(event) {
    const item = this.permissions.get(event.request_id);
    if (!item) return;
    const verdict = event.allowed ? 'Allowed' : `Denied${event.reason && event.reason !== 'user' ? ` (${event.reason})` : ''}`;
    item.querySelector('.actions')?.replaceChildren(el('span', { class: event.allowed ? 'verdict allowed' : 'verdict denied' }, verdict));
  }
}
