import { LineChart, type ChartPoint } from './chart.js';
import { formatNumber, formatSeconds, h } from './dom.js';
import { FigureHistory, parseMetrics, type Figures } from './metrics.js';
import type { Session } from './session.js';

const SCRAPE_MS = 1000;

const perSecond = (value: number | null): string => (value === null ? '–' : `${formatNumber(value)}/s`);
const count = (value: number | null): string => formatNumber(value, 0);
const seconds = (value: number | null): string => formatSeconds(value);

/**
 * Scrapes `/_admin/metrics` every second for as long as the page is open, so that the
 * overview has the last five minutes when it is shown (and keeps them across views).
 */
export class FigureFeed {
  readonly history = new FigureHistory(300, 10);
  readonly #session: Session;
  readonly #listeners = new Set<(figures: Figures) => void>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #error: string | null = null;

  constructor(session: Session) {
    this.#session = session;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    void this.#scrape();
    this.#timer = setInterval(() => void this.#scrape(), SCRAPE_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Why the last scrape failed; null when it did not. */
  get error(): string | null {
    return this.#error;
  }

  subscribe(listener: (figures: Figures) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #scrape(): Promise<void> {
    try {
      const response = await this.#session.client.request('GET', '/_admin/metrics');
      if (!response.ok) throw new Error(`/_admin/metrics answered ${response.status}`);
      const figures = this.history.add(Date.now(), parseMetrics(await response.text()));
      this.#error = null;
      for (const listener of this.#listeners) listener(figures);
    } catch (error) {
      this.#error = (error as Error).message;
      for (const listener of this.#listeners) listener(this.history.figures.at(-1) ?? emptyFigures());
    }
  }
}

function emptyFigures(): Figures {
  return {
    atMs: Date.now(), queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0, submissionsPerSecond: 0, completionsPerSecond: 0,
    queueDepth: 0, durationP50: null, durationP99: null, cancelP99: null, workerThreads: 0, workerRestarts: 0,
  };
}

/** The overview: cards with the current figures, and live charts of the last five minutes. */
export function overviewView(feed: FigureFeed): { element: HTMLElement; dispose: () => void } {
  const cards: Array<[string, string, (figures: Figures) => string]> = [
    ['queued', 'Queued', (f) => count(f.queued)],
    ['running', 'Running', (f) => count(f.running)],
    ['completed', 'Completed', (f) => count(f.completed)],
    ['failed', 'Failed', (f) => count(f.failed)],
    ['cancelled', 'Cancelled', (f) => count(f.cancelled)],
    ['workers', 'Worker threads', (f) => count(f.workerThreads)],
    ['restarts', 'Worker replacements', (f) => count(f.workerRestarts)],
  ];
  const outputs = cards.map(([name, label]) => {
    const output = h('output', { dataset: { figure: name } }, '–');
    return { output, card: h('div', { class: 'card' }, h('span', { class: 'card-label' }, label), output) };
  });
  const charts: Array<{ chart: LineChart; values: (figures: Figures) => Array<number | null> }> = [
    { chart: new LineChart('states', 'Jobs by state', [{ label: 'running', format: count }, { label: 'queued', format: count }]), values: (f) => [f.running, f.queued] },
    { chart: new LineChart('rates', 'Submissions and completions', [{ label: 'submitted', format: perSecond }, { label: 'completed', format: perSecond }]), values: (f) => [f.submissionsPerSecond, f.completionsPerSecond] },
    { chart: new LineChart('queue', 'Queue depth', [{ label: 'waiting', format: count }]), values: (f) => [f.queueDepth] },
    { chart: new LineChart('duration', 'Job duration (last 10 s)', [{ label: 'p50', format: seconds }, { label: 'p99', format: seconds }]), values: (f) => [f.durationP50, f.durationP99] },
    { chart: new LineChart('cancel', 'Cancel latency p99 (last 10 s)', [{ label: 'p99', format: seconds }]), values: (f) => [f.cancelP99] },
    { chart: new LineChart('workers', 'Worker threads and replacements', [{ label: 'threads', format: count }, { label: 'replaced', format: count }]), values: (f) => [f.workerThreads, f.workerRestarts] },
  ];
  const problem = h('p', { class: 'notice', attrs: { hidden: true, role: 'status' } });
  const element = h('section', { class: 'overview', dataset: { view: 'overview' } },
    h('h1', {}, 'Overview'),
    problem,
    h('div', { class: 'cards' }, ...outputs.map((item) => item.card)),
    h('div', { class: 'charts' }, ...charts.map((item) => item.chart.element)),
    h('p', { class: 'hint' }, 'Figures of the node serving this page (/_admin/metrics), one reading a second; the page keeps the last five minutes while it is open.'));
  const draw = (): void => {
    const figures = feed.history.figures;
    const latest = figures.at(-1);
    if (latest !== undefined) cards.forEach(([, , format], index) => (outputs[index].output.textContent = format(latest)));
    for (const { chart, values } of charts) chart.update(figures.map((f): ChartPoint => ({ atMs: f.atMs, values: values(f) })));
    problem.hidden = feed.error === null;
    problem.textContent = feed.error === null ? '' : `Cannot read the server's figures: ${feed.error}`;
  };
  draw();
  const unsubscribe = feed.subscribe(draw);
  return { element, dispose: unsubscribe };
}
