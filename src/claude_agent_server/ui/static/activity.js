// The Activity charts: cost per UTC day (30 days) and turns per UTC hour (48 hours), from
// GET /ui/activity, drawn by the vendored uPlot (vendor/README.md) on a canvas; a line of
// text under each chart says the same for screen readers and for a quick look.

import uPlot from './vendor/uplot-1.6.32.esm.js';
import { $, setText, usd } from './dom.js';

const HEIGHT = 180;

function colour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function options(width, label, format) {
  const fg = colour('--muted');
  const grid = { stroke: colour('--line'), width: 1 };
  return {
    width,
    height: HEIGHT,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max, format === usd ? 0.01 : 1)] } },
    axes: [
      { stroke: fg, grid, ticks: grid },
      { stroke: fg, grid, ticks: grid, size: 60, values: (u, values) => values.map(format) },
    ],
    series: [
      {},
      {
        label,
        stroke: colour('--accent'),
        fill: `${colour('--accent')}66`,
        width: 1,
        paths: uPlot.paths.bars({ size: [0.7, 40] }),
        points: { show: false },
      },
    ],
  };
}

class Chart {
  constructor(figure, label, format, value) {
    this.figure = figure;
    this.plotArea = $('.plot', figure);
    this.plotArea.setAttribute('aria-hidden', 'true');  // the summary below says it in words
    this.summary = $('.summary', figure);
    this.label = label;
    this.format = format;
    this.value = value;
    this.plot = null;
  }

  width() {
    return Math.max(240, this.plotArea.clientWidth || this.figure.clientWidth || 480);
  }

  draw(periods, summary) {
    const data = [periods.map((p) => Date.parse(p.start) / 1000), periods.map(this.value)];
    this.figure.dataset.points = String(data[1].filter((v) => v > 0).length);
    setText(this.summary, summary);
    if (!this.plot) {
      this.plot = new uPlot(options(this.width(), this.label, this.format), data, this.plotArea);
    } else this.plot.setData(data);
  }

  resize() {
    this.plot?.setSize({ width: this.width(), height: HEIGHT });
  }
}

const count = (value) => (Number.isInteger(value) ? String(value) : '');

export class Activity {
  constructor(api) {
    this.api = api;
    this.cost = new Chart($('#cost-chart'), 'Cost (USD)', usd, (p) => p.cost_usd);
    this.turns = new Chart($('#turns-chart'), 'Turns', count, (p) => p.turns);
    window.addEventListener('resize', () => { this.cost.resize(); this.turns.resize(); });
  }

  // Read and draw; returns the HttpError it met (the caller handles a 401), else null.
  async refresh() {
    let data;
    try {
      data = await this.api.get('/ui/activity');
    } catch (error) {
      return error;
    }
    const spent = data.days.reduce((sum, p) => sum + p.cost_usd, 0);
    const busiest = data.days.reduce((best, p) => (p.cost_usd > best.cost_usd ? p : best), data.days[0]);
    const turns = data.hours.reduce((sum, p) => sum + p.turns, 0);
    const peak = data.hours.reduce((best, p) => (p.turns > best.turns ? p : best), data.hours[0]);
    this.cost.draw(data.days, spent
      ? `${usd(spent)} in 30 days; the most on ${busiest.start.slice(0, 10)}: ${usd(busiest.cost_usd)}.`
      : 'Nothing spent in the last 30 days.');
    this.turns.draw(data.hours, turns
      ? `${turns} turn${turns === 1 ? '' : 's'} in 48 hours; the most in the hour from ${peak.start.slice(11, 16)} UTC on ${peak.start.slice(0, 10)}: ${peak.turns}.`
      : 'No turns in the last 48 hours.');
    return null;
  }
}
