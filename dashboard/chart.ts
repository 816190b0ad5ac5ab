import { h, replaceChildren, svg } from './dom.js';

/** One line of a chart. */
export interface SeriesSpec {
  label: string;
  /** Formats a value of this series for the legend. */
  format: (value: number | null) => string;
}

/** One point in time, with a value per series (null: a gap). */
export interface ChartPoint {
  atMs: number;
  values: Array<number | null>;
}

const WIDTH = 300;
const HEIGHT = 80;
const MIN_WINDOW_MS = 60_000;

/**
 * A live line chart in SVG: the last `windowMs` of points (at least a minute), scaled to the
 * highest value seen in the window, with a legend of each series' latest value. Hand-written (about 80 lines) rather
 * than a charting library: a few lines over a few hundred points need no more, and it keeps the
 * page free of inline styles under its CSP.
 */
export class LineChart {
  readonly element: HTMLElement;
  readonly #specs: SeriesSpec[];
  readonly #plot: SVGSVGElement;
  readonly #legend: HTMLElement;
  readonly #scale: HTMLElement;
  readonly #windowMs: number;
  readonly #axisStart: HTMLElement;

  constructor(name: string, title: string, specs: SeriesSpec[], windowMs = 5 * 60_000) {
    this.#specs = specs;
    this.#windowMs = windowMs;
    this.#plot = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': title });
    this.#legend = h('div', { class: 'legend' });
    this.#scale = h('span', { class: 'scale' });
    this.#axisStart = h('span', {});
    this.element = h('figure', { class: 'chart', dataset: { chart: name } },
      h('figcaption', {}, h('span', { class: 'chart-title' }, title), this.#scale),
      h('div', { class: 'plot' }, this.#plot),
      this.#legend,
      h('div', { class: 'axis' }, this.#axisStart, h('span', {}, 'now')));
    this.update([]);
  }

  /** Redraws with `points` (oldest first); the newest one's values go to the legend. */
  update(points: ChartPoint[]): void {
    const endMs = points.at(-1)?.atMs ?? Date.now();
    // The window grows with the data from one minute to `windowMs`, so that a fresh page is not one pixel wide.
    const spanMs = Math.min(this.#windowMs, Math.max(MIN_WINDOW_MS, endMs - (points[0]?.atMs ?? endMs)));
    const startMs = endMs - spanMs;
    const shown = points.filter((point) => point.atMs >= startMs);
    let max = 0;
    for (const point of shown) for (const value of point.values) if (value !== null && value > max) max = value;
    const top = niceCeiling(max * 1.1);
    const x = (atMs: number): number => ((atMs - startMs) / spanMs) * WIDTH;
    this.#axisStart.textContent = spanMs >= 120_000 ? `−${Math.round(spanMs / 60_000)} min` : `−${Math.round(spanMs / 1000)} s`;
    const y = (value: number): number => HEIGHT - (value / top) * (HEIGHT - 2) - 1;
    const grid = [0.25, 0.5, 0.75].map((fraction) => svg('line', { class: 'grid', x1: 0, x2: WIDTH, y1: HEIGHT * fraction, y2: HEIGHT * fraction }));
    const lines = this.#specs.map((_, index) => {
      let d = '';
      let drawing = false;
      for (const point of shown) {
        const value = point.values[index];
        if (value === null || value === undefined) {
          drawing = false;
          continue;
        }
        d += `${drawing ? 'L' : 'M'}${x(point.atMs).toFixed(1)},${y(value).toFixed(1)}`;
        drawing = true;
      }
      return svg('path', { class: `line series-${index}`, d, 'vector-effect': 'non-scaling-stroke' });
    });
    replaceChildren(this.#plot, ...grid, ...lines);
    this.#scale.textContent = `max ${this.#specs[0].format(top)}`;
    const latest = points.at(-1);
    this.element.dataset.points = String(shown.length);
    replaceChildren(this.#legend, ...this.#specs.map((spec, index) => {
      const value = latest?.values[index] ?? null;
      return h('span', { class: `legend-item series-${index}`, dataset: { series: spec.label, value: value === null ? '' : String(value) } },
        h('span', { class: 'swatch' }), `${spec.label} `, h('output', {}, spec.format(value)));
    }));
  }
}

/** 1, 2 or 5 times a power of ten, at or above `value` (1 for nothing). */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
