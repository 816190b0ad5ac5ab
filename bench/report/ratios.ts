import { SCENARIO_NAMES } from '../load/index.js';
import type { LoadResult, LoadTargetName, ScenarioName } from '../load/index.js';
import type { LoadRun } from './suite-results.js';

export interface Ratios {
  readonly scenario: ScenarioName;
  /** Server CPU per operation over uws-inline's: 1 is the limit of the HTTP front. */
  readonly cpuServerOverUws: number;
  readonly cpuFastifyOverServer: number;
  readonly opsServerOverFastify: number;
}

function findRun(runs: readonly LoadRun[], scenario: ScenarioName, target: LoadTargetName): LoadResult | undefined {
  return runs.find((run) => run.scenario === scenario && run.target === target)?.result;
}

function cpuPerOperation(result: LoadResult | undefined): number {
  return result?.serverCpu?.microsPerOperation ?? Number.NaN;
}

export function computeRatios(runs: readonly LoadRun[]): Ratios[] {
  const scenarios = SCENARIO_NAMES.filter((scenario) => runs.some((run) => run.scenario === scenario));
  return scenarios.map((scenario) => {
    const server = findRun(runs, scenario, 'server');
    const uws = findRun(runs, scenario, 'uws-inline');
    const fastify = findRun(runs, scenario, 'fastify-piscina');
    return {
      scenario,
      cpuServerOverUws: cpuPerOperation(server) / cpuPerOperation(uws),
      cpuFastifyOverServer: cpuPerOperation(fastify) / cpuPerOperation(server),
      opsServerOverFastify: (server?.operationsPerSecond ?? Number.NaN) / (fastify?.operationsPerSecond ?? Number.NaN),
    };
  });
}
