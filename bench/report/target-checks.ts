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
  return checks;
}
