import type autocannon from 'autocannon';
import type { LatencyHistogram } from './latency-histogram.js';
import type { LoadPlan, OperationTally } from './load-plan.js';
import { OPERATIONS, zeroOperationCounts } from './scenarios.js';
import type { OperationKind } from './scenarios.js';

/**
 * An operation that is exactly one request (blocking, fire), sent as a fixed
 * request autocannon builds once. Operations are counted from autocannon's
 * status codes afterwards, so nothing runs per response.
 */
export class SingleRequestPlan implements LoadPlan<object> {
  readonly #kind: OperationKind;

  constructor(kind: OperationKind) {
    if (OPERATIONS[kind].storesJob) throw new TypeError(`${kind} takes more than one request`);
    this.#kind = kind;
  }

  requests(): autocannon.Request[] {
    const spec = OPERATIONS[this.#kind];
    return [{ method: 'GET', path: spec.submitPath, headers: spec.submitHeaders }];
  }

  initialContext(): object {
    return {};
  }

  tally(result: autocannon.Result, requestLatency: LatencyHistogram): OperationTally {
    const expectedStatus = String(OPERATIONS[this.#kind].expectedSubmitStatus);
    const completedByKind = zeroOperationCounts();
    const failures: Record<string, number> = {};
    for (const [status, { count }] of Object.entries(result.statusCodeStats)) {
      if (status === expectedStatus) completedByKind[this.#kind] = count;
      else failures[`${this.#kind} submit -> ${status}`] = count;
    }
    // Requests sent but never answered before the run stopped.
    return { started: result.requests.sent, completedByKind, failures, latency: requestLatency };
  }
}
