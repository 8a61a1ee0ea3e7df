// Markdown as DOM nodes: the vendored markdown-it (vendor/README.md) only tokenizes; this
// module turns its tokens into elements with createElement and text nodes. Raw HTML in a
// reply stays text (html: false), only http(s) and mailto links become links (opening in
// a new tab, without a referrer or an opener), images show as their text, and code blocks
// get their language and a Copy button.

import MarkdownIt from './vendor/markdown-it-15.0.3.min.js';
import { el } from './dom.js';

const parser = new MarkdownIt({ html: false, linkify: true, typographer: false });

const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:']);
// The tags a token may open: anything else (a future token type) becomes a plain span.
const TAGS = new Set([
  'p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'blockquote', 'em', 'strong', 's',
  'table', 'thead', 'tbody', 'tr', 'th', 'td', 'a',
]);

// The href of a link if its scheme is safe, else null (the link stays text).
export function safeHref(href) {
  try {
    const url = new URL(String(href ?? ''), window.location.href);
    return SAFE_SCHEMES.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function copyButton(text) {
  const button = el('button', { type: 'button', class: 'copy', 'aria-label': 'Copy code' }, 'Copy');
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      button.textContent = 'Copy failed';
    }
    setTimeout(() => { button.textContent = 'Copy'; }, 1500);
  });
  return button;
}

function codeBlock(token) {
  const language = String(token.info || '').trim().split(/\s+/)[0];
  return el('figure', { class: 'code' },
    el('figcaption', {}, el('span', { class: 'lang' }, language || 'text'), copyButton(token.content)),
    el('pre', {}, el('code', language ? { 'data-lang': language } : {}, token.content)));
}

function opened(token) {
  const tag = TAGS.has(token.tag) ? token.tag : 'span';
  if (tag === 'a') {
    const href = safeHref(token.attrGet('href'));
    return href
      ? el('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' })
      : el('span', { class: 'unsafe-link' });
  }
  const node = el(tag);
  if (tag === 'ol' && token.attrGet('start')) node.setAttribute('start', String(Number(token.attrGet('start')) || 1));
  const align = /text-align:(left|right|center)/.exec(token.attrGet('style') || '');
  if (align) node.className = `align-${align[1]}`;
  return node;
}

// Append the nodes of `tokens` (block or inline level) to `root`.
function build(root, tokens) {
  const stack = [root];
  const top = () => stack[stack.length - 1];
  for (const token of tokens) {
    if (token.nesting === 1) {
      const node = opened(token);
      top().append(node);
      stack.push(node);
      continue;
    }
    if (token.nesting === -1) {
      if (stack.length > 1) stack.pop();
      continue;
    }
    switch (token.type) {
      case 'inline':
        build(top(), token.children || []);
        break;
      case 'text':
      case 'html_inline':
      case 'html_block':
        top().append(document.createTextNode(token.content));
        break;
      case 'code_inline':
        top().append(el('code', {}, token.content));
        break;
      case 'softbreak':
        top().append(document.createTextNode('\n'));
        break;
      case 'hardbreak':
        top().append(el('br'));
        break;
      case 'fence':
      case 'code_block':
        top().append(codeBlock(token));
        break;
      case 'hr':
        top().append(el('hr'));
        break;
      case 'image':
        top().append(el('span', { class: 'image-alt' }, `[image: ${token.content || token.attrGet('src') || ''}]`));
        break;
      default:
        if (token.content) top().append(document.createTextNode(token.content));
    }
  }
}

// `text` as Markdown, in a new <div class="markdown">.
export function markdown(text) {
  const root = el('div', { class: 'markdown' });
  build(root, parser.parse(String(text ?? ''), {}));
  return root;
}
