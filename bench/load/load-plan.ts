import type autocannon from 'autocannon';
import type { LatencyHistogram } from './latency-histogram.js';
import { OperationChain } from './operation-chain.js';
import { OPERATIONS, SCENARIOS } from './scenarios.js';
import type { OperationKind, ScenarioName } from './scenarios.js';
import { SingleRequestPlan } from './single-request-plan.js';

/** What a set of connections achieved, as operations rather than requests. */
export interface OperationTally {
  readonly started: number;
  readonly completedByKind: Readonly<Record<OperationKind, number>>;
  /** Unexpected answers, keyed by operation, step and status. */
  readonly failures: Readonly<Record<string, number>>;
  readonly latency: LatencyHistogram;
}

/** The autocannon requests that drive one scenario, and how to count its operations afterwards. */
export interface LoadPlan<Context extends object> {
  requests(): autocannon.Request<Context>[];
  initialContext(): Context;
  tally(result: autocannon.Result, requestLatency: LatencyHistogram): OperationTally;
}

/**
 * Scenarios made of one request per operation (blocking, fire) run as a
 * fixed autocannon request: dynamic requests cost autocannon about 7 µs more
 * each to build (measured), which would cap the load below what a fast
 * server can take. Everything else needs the operation chain.
 */
export function loadPlanFor(scenario: ScenarioName): LoadPlan<object> {
  const rotation = SCENARIOS[scenario];
  const onlyKind = rotation.every((kind) => kind === rotation[0]) ? rotation[0] : undefined;
  if (onlyKind !== undefined && !OPERATIONS[onlyKind].storesJob) return new SingleRequestPlan(onlyKind);
  // Sound: autocannon hands the chain's callbacks only contexts cloned from the chain's own initialContext().
  return new OperationChain(rotation) as LoadPlan<object>;
}
