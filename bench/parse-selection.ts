import { SCENARIO_NAMES, isScenarioName } from './load/index.js';
import type { ScenarioName } from './load/index.js';
import { MICRO_PART_NAMES, isMicroPartName, type MicroPartName } from './report/suite-results.js';

/** Which parts of the suite bench/run.ts runs, from its command line. */
export interface Selection {
  readonly micro: readonly MicroPartName[];
  readonly scenarios: readonly ScenarioName[];
  /** Base name of the result files. */
  readonly resultName: string;
}

/** The prefix that names a load scenario outright: `cancel` alone is the cancel micro-benchmark. */
const LOAD_PREFIX = 'load:';

/** Part names, micro-benchmarks first; a scenario that shares a micro-benchmark's name needs `load:`. */
export function parseSelection(names: readonly string[]): Selection {
  if (names.length === 0) return { micro: MICRO_PART_NAMES, scenarios: SCENARIO_NAMES, resultName: 'latest' };
  const micro = new Set<MicroPartName>();
  const scenarios = new Set<ScenarioName>();
  for (const name of names) {
    const scenario = name.startsWith(LOAD_PREFIX) ? name.slice(LOAD_PREFIX.length) : name;
    if (isMicroPartName(name)) micro.add(name);
    else if (name === 'load') SCENARIO_NAMES.forEach((each) => scenarios.add(each));
    else if (isScenarioName(scenario)) scenarios.add(scenario);
    else {
      throw new TypeError(`unknown part ${name}; expected one of ${[...MICRO_PART_NAMES, 'load'].join(', ')}, ` +
        `or a load scenario: ${SCENARIO_NAMES.map((each) => (isMicroPartName(each) ? `${LOAD_PREFIX}${each}` : each)).join(', ')}`);
    }
  }
  return {
    micro: MICRO_PART_NAMES.filter((name) => micro.has(name)),
    scenarios: SCENARIO_NAMES.filter((name) => scenarios.has(name)),
    resultName: `latest-${names.join('-').replaceAll(':', '-')}`,
  };
}
