/**
 * The load scenarios and the operations they are made of. An operation is
 * what a client wants done (one version call, one stored job fetched, one
 * job cancelled); it may take several HTTP requests.
 */

export type OperationKind = 'blocking' | 'fire' | 'store-fetch' | 'store-sleep' | 'cancel';

/** A fresh counter per operation kind, all zero. */
export function zeroOperationCounts(): Record<OperationKind, number> {
  return { blocking: 0, fire: 0, 'store-fetch': 0, 'store-sleep': 0, cancel: 0 };
}

/** How a client performs one operation and which answers count as success. */
export interface OperationSpec {
  readonly submitPath: string;
  /** Request headers of the submit; `x-arango-async` selects the mode. */
  readonly submitHeaders: Readonly<Record<string, string>>;
  readonly expectedSubmitStatus: number;
  /** Blocking and fire-and-forget operations end with their submit; stored ones go on to fetch a job id. */
  readonly storesJob: boolean;
  /** Cancel the stored job before fetching it. */
  readonly cancelsJob: boolean;
  /** The fetch status that completes the operation; 204 means "pending, poll again". */
  readonly expectedFetchStatus: number;
}

const VERSION_PATH = '/_api/version';
const NO_HEADERS = {};
const FIRE_HEADERS = { 'x-arango-async': 'true' };
const STORE_HEADERS = { 'x-arango-async': 'store' };

export const OPERATIONS: Readonly<Record<OperationKind, OperationSpec>> = {
  blocking: {
    submitPath: VERSION_PATH, submitHeaders: NO_HEADERS, expectedSubmitStatus: 200,
    storesJob: false, cancelsJob: false, expectedFetchStatus: 0,
  },
  fire: {
    submitPath: VERSION_PATH, submitHeaders: FIRE_HEADERS, expectedSubmitStatus: 202,
    storesJob: false, cancelsJob: false, expectedFetchStatus: 0,
  },
  'store-fetch': {
    submitPath: VERSION_PATH, submitHeaders: STORE_HEADERS, expectedSubmitStatus: 202,
    storesJob: true, cancelsJob: false, expectedFetchStatus: 200,
  },
  // 50 ms of sleep: a job that outlives its submit, so clients really poll.
  'store-sleep': {
    submitPath: '/_admin/sleep?duration=0.05', submitHeaders: STORE_HEADERS, expectedSubmitStatus: 202,
    storesJob: true, cancelsJob: false, expectedFetchStatus: 200,
  },
  // 30 s is far beyond any run: only the cancel can end this job in time.
  cancel: {
    submitPath: '/_admin/sleep?duration=30', submitHeaders: STORE_HEADERS, expectedSubmitStatus: 202,
    storesJob: true, cancelsJob: true, expectedFetchStatus: 410,
  },
};

export type ScenarioName = OperationKind | 'mixed';

/**
 * The operations each scenario's clients take turns at, in order; repeats
 * set the proportions. `mixed` leans on cheap calls the way an API does.
 */
export const SCENARIOS: Readonly<Record<ScenarioName, readonly OperationKind[]>> = {
  blocking: ['blocking'],
  fire: ['fire'],
  'store-fetch': ['store-fetch'],
  'store-sleep': ['store-sleep'],
  cancel: ['cancel'],
  mixed: ['blocking', 'blocking', 'blocking', 'blocking', 'fire', 'fire', 'store-fetch', 'store-fetch', 'store-sleep', 'cancel'],
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS) as readonly ScenarioName[];

export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}
