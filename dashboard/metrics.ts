/*
 * The overview's figures, read from the server's own Prometheus endpoint (`/_admin/metrics`)
 * and turned into time series in the page: rates from counters, quantiles from histogram
 * buckets (as Prometheus's histogram_quantile does), gauges as they are. No DOM here.
 */

/** One scrape: every sample by `name{labels}` as the text format writes it (labels sorted). */
export type Scrape = Map<string, number>;

/** Parses the Prometheus text exposition format (comments and malformed lines skipped). */
export function parseMetrics(text: string): Scrape {
  const samples: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const value = match[4] === '+Inf' ? Infinity : match[4] === '-Inf' ? -Infinity : Number(match[4]);
    if (Number.isNaN(value)) continue;
    samples.set(seriesKey(match[1], parseLabels(match[3] ?? '')), value);
  }
  return samples;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[match[1]] = match[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** The key of a sample: `name` or `name{a="1",b="2"}` with labels in name order. */
export function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const names = Object.keys(labels).sort();
  return names.length === 0 ? name : `${name}{${names.map((label) => `${label}="${labels[label]}"`).join(',')}}`;
}

/** Sum of every sample of `name` whose labels include `labels`. */
export function sum(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  for (const [key, value] of scrape) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (wanted.every((pair) => key.includes(pair))) total += value;
  }
  return total;
}

/** A histogram's cumulative buckets by upper bound, ascending (with +Inf last). */
export function buckets(scrape: Scrape, name: string): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  const prefix = `${name}_bucket{`;
  for (const [key, value] of scrape) {
    if (!key.startsWith(prefix)) continue;
    const le = /le="([^"]+)"/.exec(key)?.[1];
    if (le !== undefined) found.push([le === '+Inf' ? Infinity : Number(le), value]);
  }
  return found.sort((a, b) => a[0] - b[0]);
}

/**
 * The `q` quantile of what a histogram observed between two scrapes, interpolated linearly in
 * the bucket it falls in (as histogram_quantile); null when nothing was observed. A quantile
 * in the +Inf bucket is the highest finite bound.
 */
export function quantileBetween(before: Scrape | undefined, after: Scrape, name: string, q: number): number | null {
  const now = buckets(after, name);
  const then = new Map(before === undefined ? [] : buckets(before, name));
  const counts = now.map(([le, count]) => [le, Math.max(0, count - (then.get(le) ?? 0))] as [number, number]);
  const total = counts.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of counts) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket === 0 ? le : lowerBound + ((le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

/** One point of the overview: the time and every figure derived from two scrapes. */
export interface Figures {
  atMs: number;
  queued: number;
  running: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Per second, since the previous scrape. */
  submissionsPerSecond: number;
  completionsPerSecond: number;
  queueDepth: number;
  /** Seconds, over the last `quantileWindow` scrapes; null when no job ended then. */
  durationP50: number | null;
  durationP99: number | null;
  cancelP99: number | null;
  workerThreads: number;
  workerRestarts: number;
}

const TRANSITIONS = 'arangojobs_job_transitions_total';
const FINAL_KINDS = ['done', 'failed', 'cancelled', 'timedOut'];

/** Keeps the last `capacity` figures, one per scrape. */
export class FigureHistory {
  readonly capacity: number;
  readonly figures: Figures[] = [];
  readonly #scrapes: Array<{ atMs: number; scrape: Scrape }> = [];
  readonly #quantileWindow: number;

  /** `quantileWindow`: how many scrapes back the quantiles look (10 at one scrape a second: the last 10 s). */
  constructor(capacity = 300, quantileWindow = 10) {
    this.capacity = capacity;
    this.#quantileWindow = quantileWindow;
  }

  /** Adds a scrape taken at `atMs`; returns its figures. */
  add(atMs: number, scrape: Scrape): Figures {
    const previous = this.#scrapes.at(-1);
    const windowStart = this.#scrapes.at(-this.#quantileWindow);
    this.#scrapes.push({ atMs, scrape });
    if (this.#scrapes.length > this.#quantileWindow) this.#scrapes.shift();
    const seconds = previous === undefined ? 0 : Math.max(0.001, (atMs - previous.atMs) / 1000);
    const rate = (value: (s: Scrape) => number): number => (previous === undefined ? 0 : Math.max(0, value(scrape) - value(previous.scrape)) / seconds);
    const finished = (s: Scrape): number => FINAL_KINDS.reduce((total, kind) => total + sum(s, TRANSITIONS, { kind }), 0);
    const figures: Figures = {
      atMs,
      queued: sum(scrape, 'arangojobs_jobs', { state: 'queued' }),
      running: sum(scrape, 'arangojobs_jobs', { state: 'running' }),
      completed: sum(scrape, TRANSITIONS, { kind: 'done' }),
      failed: sum(scrape, TRANSITIONS, { kind: 'failed' }) + sum(scrape, TRANSITIONS, { kind: 'timedOut' }),
      cancelled: sum(scrape, TRANSITIONS, { kind: 'cancelled' }),
      submissionsPerSecond: rate((s) => sum(s, TRANSITIONS, { kind: 'queued' })),
      completionsPerSecond: rate(finished),
      queueDepth: sum(scrape, 'arangojobs_queue_depth'),
      durationP50: quantileBetween(windowStart?.scrape, scrape, 'arangojobs_job_duration_seconds', 0.5),
      durationP99: quantileBetween(windowStart?.scrape, scrape, 'arangojobs_job_duration_seconds', 0.99),
      cancelP99: quantileBetween(windowStart?.scrape, scrape, 'arangojobs_cancel_latency_seconds', 0.99),
      workerThreads: sum(scrape, 'arangojobs_worker_threads'),
      workerRestarts: sum(scrape, 'arangojobs_worker_restarts_total'),
    };
    this.figures.push(figures);
    if (this.figures.length > this.capacity) this.figures.shift();
    return figures;
  }
}
