// The stats strip, from GET /stats (the version goes in the page's footer).

import { $, bytes, el, setText, usd } from './dom.js';

function uptime(seconds) {
  if (seconds === null || seconds === undefined) return 'n/a';
  const s = Math.floor(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

export function renderStats(list, stats) {
  const items = [
    ['Live', stats.sessions?.live],
    ['Hibernated', stats.sessions?.hibernated],
    ['Warm', stats.sessions?.warm],
    ['Turns running', stats.turns_running],
    ['Pending permissions', stats.pending_permissions],
    ['Cost today', usd(stats.cost_today_usd)],
    ['CLI memory', bytes(stats.cli_memory_bytes)],
    ['Uptime', uptime(stats.uptime_seconds)],
  ];
  setText($('#version'), stats.version ?? '');
  list.replaceChildren(...items.map(([name, value]) => el('div', { class: 'stat' },
    el('dt', {}, name), el('dd', {}, String(value ?? 'n/a')))));
}
