// A session's conversation as DOM nodes: the transcript's messages (GET .../history) and
// the live events (text as it streams, tool calls with their input, tool results
// collapsed, thinking dimmed, permission requests with their buttons, the turn's end).
// Everything from the agent goes in as text.

import { el, usd } from './dom.js';
import { permissionItem } from './permissions.js';
import { toolPreview } from './preview.js';

const CLI_MADE = /^<(system-reminder|command-|local-command|user-prompt-submit-hook)/;

function resultText(content) {
  if (Array.isArray(content)) return content.map((c) => (c && typeof c === 'object' ? c.text ?? '' : String(c))).join('\n');
  if (content === null || content === undefined) return '';
  return typeof content === 'object' ? JSON.stringify(content, null, 2) : String(content);
}

export class Conversation {
  constructor(list, answer) {
    this.list = list;
    this.answer = answer;
    this.streaming = null;  // the text block being streamed (text_delta), replaced by the assistant_message
    this.permissions = new Map();  // request_id -> its list item
  }

  clear() {
    this.list.replaceChildren();
    this.streaming = null;
    this.permissions.clear();
  }

  add(node) {
    this.list.append(node);
    node.scrollIntoView?.({ block: 'nearest' });
    return node;
  }

  user(text) {
    if (!text || CLI_MADE.test(text)) return;
    this.add(el('li', { class: 'user' }, el('span', { class: 'who' }, 'You'), el('div', { class: 'text' }, text)));
  }

  text(text) {
    this.add(el('li', { class: 'assistant' }, el('span', { class: 'who' }, 'Agent'), el('div', { class: 'text' }, text)));
  }

  thinking(text) {
    this.add(el('li', { class: 'thinking' }, el('span', { class: 'who' }, 'Thinking'), el('div', { class: 'text' }, text)));
  }

  toolUse(name, input) {
    const preview = toolPreview(name, input);
    this.add(el('li', { class: 'tool-use' },
      el('span', { class: 'who' }, `Tool: ${name ?? 'unknown'}`),
      preview.subject ? el('code', { class: 'subject' }, preview.subject) : null,
      preview.body ? el('pre', { class: 'preview' }, preview.body) : null,
      el('details', {}, el('summary', {}, 'Input'), el('pre', {}, JSON.stringify(input ?? {}, null, 2)))));
  }

  toolResult(content, isError) {
    const text = resultText(content);
    const lines = text.split('\n').length;
    this.add(el('li', { class: isError ? 'tool-result error' : 'tool-result' },
      el('details', {},
        el('summary', {}, `${isError ? 'Tool error' : 'Tool result'} (${lines} line${lines === 1 ? '' : 's'})`),
        el('pre', {}, text))));
  }

  note(text, kind = 'note') {
    this.add(el('li', { class: kind }, text));
  }

  // One block of the transcript or of an assistant_message (SDK or reply-item shape).
  block(block, role) {
    if (!block || typeof block !== 'object') return;
    switch (block.type) {
      case 'text':
        if (role === 'user') this.user(block.text ?? block.content);
        else this.text(block.text ?? block.content ?? '');
        break;
      case 'thinking':
        this.thinking(block.thinking ?? block.content ?? '');
        break;
      case 'tool_use':
        this.toolUse(block.name ?? block.tool_name, block.input ?? block.tool_input);
        break;
      case 'tool_result':
        this.toolResult(block.content, block.is_error);
        break;
      default:
    }
  }

  history(messages) {
    for (const entry of messages || []) {
      const message = entry.message || {};
      const role = message.role || entry.type;
      if (typeof message.content === 'string') {
        if (role === 'user') this.user(message.content);
        else this.text(message.content);
      } else {
        for (const block of message.content || []) this.block(block, role);
      }
    }
  }

  // One event of the session's stream.
  event(event) {
    switch (event.type) {
      case 'turn_started':
        this.user(event.message);
        break;
      case 'text_delta':
        if (event.parent_tool_use_id) break;
        if (!this.streaming) {
          this.streaming = this.add(el('li', { class: 'assistant streaming' },
            el('span', { class: 'who' }, 'Agent'), el('div', { class: 'text' })));
        }
        this.streaming.lastChild.append(document.createTextNode(event.text ?? ''));
        break;
      case 'assistant_message':
        this.endStreaming(true);
        for (const item of event.content || []) this.block(item, 'assistant');
        if (event.error) this.note(`Model error: ${event.error}`, 'error');
        break;
      case 'tool_result':
        this.toolResult(event.content, event.is_error);
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
      else this.streaming.classList.remove('streaming');
      this.streaming = null;
    }
  }

  permission(request) {
    if (!request?.request_id || this.permissions.has(request.request_id)) return;
    const item = permissionItem(request, { answer: this.answer, showSession: false });
    this.permissions.set(request.request_id, this.add(item));
  }

  resolved(event) {
    const item = this.permissions.get(event.request_id);
    if (!item) return;
    const verdict = event.allowed ? 'Allowed' : `Denied${event.reason && event.reason !== 'user' ? ` (${event.reason})` : ''}`;
    item.querySelector('.actions')?.replaceChildren(el('span', { class: event.allowed ? 'verdict allowed' : 'verdict denied' }, verdict));
  }
}
