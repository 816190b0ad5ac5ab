import { formatCell, formatNumber, isRecord } from './format.js';
import type { Ratios } from './ratios.js';
import type { MicroRun } from './suite-results.js';

export interface TargetCheck {
  readonly description: string;
  readonly measured: string;
  /** Undefined when a run it needs failed. */
  readonly pass: boolean | undefined;
}

/** Checks `ratio` against a bound; the shown value is rounded towards failing, so a 3.996× never reads as a failed 4.00×. */
function check(description: string, ratio: number | undefined, bound: 'at most' | 'at least', limit: number): TargetCheck {
  if (ratio === undefined || !Number.isFinite(ratio)) return { description, measured: 'not measured', pass: undefined };
  const shown = (bound === 'at most' ? Math.ceil(ratio * 100) : Math.floor(ratio * 100)) / 100;
  return { description, measured: `${formatNumber(shown, 2)}×`, pass: bound === 'at most' ? ratio <= limit : ratio >= limit };
}

/** A bar on figures a hardening part returns: `values` reads them, undefined when it did not run or failed. */
function hardeningCheck(micro: readonly MicroRun[], part: MicroRun['part'], description: string,
  values: (data: Record<string, unknown>) => { measured: string; pass: boolean } | undefined): TargetCheck | undefined {
  const run = micro.find((entry) => entry.part === part);
  if (run === undefined) return undefined;
  const outcome = isRecord(run.data) ? values(run.data) : undefined;
  return outcome === undefined ? { description, measured: 'not measured', pass: undefined } : { description, ...outcome };
}

function numbers(list: unknown, key: string): number[] {
  return Array.isArray(list) ? list.map((item) => (isRecord(item) ? Number(item[key]) : Number.NaN)) : [];
}

/** The hardening issue's bars: a cached client under a wrong-password flood, never-reading clients, webhook fds. */
function hardeningChecks(micro: readonly MicroRun[]): TargetCheck[] {
  const checks = [
    hardeningCheck(micro, 'auth-flood', 'auth flood: cached client p50 < 20 ms and p99 < 100 ms', (data) => {
      const under = isRecord(data.underAttack) ? data.underAttack : undefined;
      if (under === undefined) return undefined;
      const p50 = Number(under.p50Ms);
      const p99 = Number(under.p99Ms);
      return { measured: `${formatNumber(p50, 2)} / ${formatNumber(p99, 1)} ms`, pass: p50 < 20 && p99 < 100 };
    }),
    hardeningCheck(micro, 'slow-readers', 'slow readers: RSS grows by less than 150 MB', (data) => {
      const growth = numbers(data.scenarios, 'rssGrowthMb');
      if (growth.length === 0 || growth.some((value) => !Number.isFinite(value))) return undefined;
      const worst = Math.max(...growth);
      return { measured: `${formatNumber(worst, 1)} MB at most`, pass: worst < 150 };
    }),
    hardeningCheck(micro, 'webhook-fds', 'webhook flood: under 600 open fds', (data) => {
      const peaks = numbers(data.scenarios, 'peakFds');
      if (peaks.length === 0 || peaks.some((value) => !Number.isFinite(value))) return undefined;
      const worst = Math.max(...peaks);
      return { measured: `${formatNumber(worst, 0)} fds at most`, pass: worst < 600 };
    }),
    hardeningCheck(micro, 'durable', 'durable store + fetch: at least 50 % of memory mode ops/s', (data) => {
      const ratio = Number(data.durableOverMemory);
      return Number.isFinite(ratio) ? { measured: `${formatNumber(Math.floor(ratio * 100), 0)} %`, pass: ratio >= 0.5 } : undefined;
    }),
    hardeningCheck(micro, 'durable', 'durable start-up with 1M stored results: under 3 s', (data) => {
      const startup = isRecord(data.startup) ? data.startup : undefined;
      const seconds = Number(startup?.startupSeconds);
      if (!Number.isFinite(seconds)) return undefined;
      return { measured: `${formatNumber(seconds, 2)} s (${formatNumber(Number(startup?.storedResults), 0)} results)`, pass: seconds < 3 };
    }),
    hardeningCheck(micro, 'cluster', 'cluster: jobs/s at least 5× BullMQ\'s on the same Redis, same run', (data) => {
      const ours = isRecord(data.ours) ? Number(data.ours.jobsPerSecond) : Number.NaN;
      const bullmq = isRecord(data.bullmq) ? Number(data.bullmq.jobsPerSecond) : Number.NaN;
      const ratio = Number(data.ratio);
      if (!Number.isFinite(ratio)) return undefined;
      return { measured: `${formatNumber(Math.floor(ratio * 100) / 100, 2)}× (${formatNumber(ours, 0)} vs ${formatNumber(bullmq, 0)} jobs/s)`, pass: ratio >= 5 };
    }),
    hardeningCheck(micro, 'cluster', 'cluster: cancel at B of a job running on A to its cancelled event, p99 < 20 ms', (data) => {
      const cancel = isRecord(data.cancel) ? data.cancel : undefined;
      const p99 = Number(cancel?.p99Ms);
      if (!Number.isFinite(p99)) return undefined;
      return { measured: `${formatNumber(p99, 2)} ms (${formatNumber(Number(cancel?.samples), 0)} samples)`, pass: p99 < 20 };
    }),
  ];
  return checks.filter((check): check is TargetCheck => check !== undefined);
}

/** The targets of issue 5; only those whose runs took place in this run. */
export function checkTargets(ratios: readonly Ratios[], micro: readonly MicroRun[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const scenario of ['blocking', 'fire', 'store-fetch'] as const) {
    const ratio = ratios.find((entry) => entry.scenario === scenario);
    if (ratio === undefined) continue;
    checks.push(check(`${scenario}: server CPU/op within 1.5× of uws-inline`, ratio.cpuServerOverUws, 'at most', 1.5));
    checks.push(check(`${scenario}: server CPU/op at least 4× less than fastify-piscina`, ratio.cpuFastifyOverServer, 'at least', 4));
  }
  const storeFetch = ratios.find((entry) => entry.scenario === 'store-fetch');
  if (storeFetch !== undefined) {
    checks.push(check('store-fetch: server ops/s at least 1.5× fastify-piscina', storeFetch.opsServerOverFastify, 'at least', 1.5));
  }
  const memory = micro.find((run) => run.part === 'memory');
  if (memory !== undefined) {
    const data = isRecord(memory.data) ? memory.data : undefined;
    const table = isRecord(data?.table) ? data.table : undefined;
    checks.push({
      description: 'memory: at most 300 bytes of overhead per stored job beyond its body',
      measured: table === undefined
        ? 'not measured'
        : `${formatCell(table['overhead bytes/job'])} B heap + external, ${formatCell(table['rss overhead bytes/job'])} B RSS`,
      pass: typeof data?.targetMet === 'boolean' ? data.targetMet : undefined,
    });
  }
  checks.push(...hardeningChecks(micro));
  return checks;
}
