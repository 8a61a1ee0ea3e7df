// Building the page with createElement and textContent only: nothing the agent writes
// is ever parsed as HTML (the page's CSP also requires Trusted Types, so an HTML sink
// with a string would throw).

// el('li', {class: 'x', 'aria-label': 'y'}, child, 'text', ...): attributes are set with
// setAttribute (event handler attributes refused); strings become text nodes.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (/^on/i.test(name)) throw new Error(`refusing event handler attribute ${name}`);
    node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, ...children);
  return node;
}

export function append(node, ...children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function setText(node, text) {
  const value = text ?? '';
  if (node.textContent !== value) node.textContent = value;
  return node;
}

// Make `parent`'s children exactly `nodes`, in order, moving only the ones out of place:
// a node that stays keeps its focus and state (a redraw must not take the keyboard's
// place away, nor a click in flight).
export function reconcile(parent, nodes) {
  const wanted = new Set(nodes);
  for (const child of [...parent.children]) if (!wanted.has(child)) child.remove();
  nodes.forEach((node, index) => {
    const current = parent.children[index];
    if (current !== node) parent.insertBefore(node, current ?? null);
  });
}

export const $ = (selector, root = document) => root.querySelector(selector);

export const shortId = (id) => String(id ?? '').slice(0, 8);

export function ago(iso, now = Date.now()) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

export function waited(iso, now = Date.now()) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

// Dollars with sensible precision: $0.00, $0.0012, $0.12, $1.23, $1,234.50.
export function usd(value) {
  const v = Number(value) || 0;
  const size = Math.abs(v);
  if (size === 0) return '$0.00';
  if (size < 0.0001) return '<$0.0001';
  if (size < 0.1) return `$${Number(v.toPrecision(2))}`;  // two significant digits: $0.0012
  return `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function bytes(value) {
  if (value === null || value === undefined) return 'n/a';
  const mb = value / (1024 * 1024);
  return mb >= 1024 ? `${(mb / 1024).toFixed(2)} GB` : `${mb.toFixed(0)} MB`;
}

const STATUS_LABELS = { waiting_permission: 'waiting for permission' };
export const statusLabel = (status) => STATUS_LABELS[status] ?? String(status ?? '');

// The last two parts of a long path ("…/project/src"); the whole path goes in a tooltip.
export function shortPath(path) {
  const parts = String(path ?? '').split('/').filter(Boolean);
  return parts.length > 2 ? `…/${parts.slice(-2).join('/')}` : String(path ?? '');
}
