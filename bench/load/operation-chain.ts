/**
 * Turns operations into autocannon request sequences. Each connection walks
 * one operation at a time through its steps (submit, cancel, fetch until
 * not 204) with the state kept in autocannon's per-connection context, and
 * tallies completed operations, failures and end-to-end latency.
 *
 * autocannon only knows fixed request lists, so the list is one generic step
 * repeated: each entry asks the context what to send next, and returning null
 * once the operation is over makes autocannon restart the list with a fresh
 * context, which starts the next operation (autocannon README, setupRequest).
 */
import type autocannon from 'autocannon';
import { LatencyHistogram } from './latency-histogram.js';
import type { LoadPlan, OperationTally } from './load-plan.js';
import { OPERATIONS, zeroOperationCounts } from './scenarios.js';
import type { OperationKind } from './scenarios.js';

/** Steps of one operation, as kept in the connection's context. */
const PHASE_START = 0;
const PHASE_AWAIT_SUBMIT = 1;
const PHASE_SEND_CANCEL = 2;
const PHASE_AWAIT_CANCEL = 3;
const PHASE_SEND_FETCH = 4;
const PHASE_AWAIT_FETCH = 5;
const PHASE_FINISHED = 6;

/**
 * Length of each connection's request list, so the most requests one
 * operation may take. When autocannon wraps around it resets the context,
 * abandoning an operation still polling; it then counts as unfinished.
 * A 50 ms job polled at loopback speed needs a few dozen.
 */
const MAX_REQUESTS_PER_OPERATION = 2048;

const NO_HEADERS = {};
const ASYNC_ID_HEADER = 'x-arango-async-id';

export interface OperationContext {
  phase: number;
  kind: OperationKind;
  jobId: string;
  startedAtMs: number;
}

/** Header names arrive in the server's case; HTTP says they are case-insensitive. */
function headerValue(headers: Record<string, string | string[]>, lowerCaseName: string): string | undefined {
  let value = headers[lowerCaseName];
  if (value === undefined) {
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === lowerCaseName) value = headers[name];
    }
  }
  return Array.isArray(value) ? value[0] : value;
}

export class OperationChain implements LoadPlan<OperationContext> {
  readonly #rotation: readonly OperationKind[];
  #rotationIndex = 0;
  #started = 0;
  readonly #completedByKind = zeroOperationCounts();
  readonly #failures: Record<string, number> = {};
  readonly #latency = new LatencyHistogram();

  /** `rotation` lists the operations connections take turns at, shared across all of them. */
  constructor(rotation: readonly OperationKind[]) {
    if (rotation.length === 0) throw new TypeError('an operation rotation needs at least one operation');
    this.#rotation = rotation;
  }

  initialContext(): OperationContext {
    return { phase: PHASE_START, kind: 'blocking', jobId: '', startedAtMs: 0 };
  }

  requests(): autocannon.Request<OperationContext>[] {
    // autocannon calls these with the request entry as `this`, hence arrows.
    const step: autocannon.Request<OperationContext> = {
      setupRequest: (request, context) => this.#prepareRequest(request, context),
      onResponse: (status, _body, context, headers) => this.#handleResponse(status, context, headers),
    };
    return Array.from({ length: MAX_REQUESTS_PER_OPERATION }, () => ({ ...step }));
  }

  tally(): OperationTally {
    return {
      started: this.#started,
      completedByKind: { ...this.#completedByKind },
      failures: { ...this.#failures },
      latency: this.#latency,
    };
  }

  #prepareRequest(
    request: autocannon.Request<OperationContext>,
    context: OperationContext,
  ): autocannon.Request<OperationContext> | null {
    switch (context.phase) {
      case PHASE_START: {
        const kind = this.#rotation[this.#rotationIndex];
        this.#rotationIndex = (this.#rotationIndex + 1) % this.#rotation.length;
        const spec = OPERATIONS[kind];
        context.kind = kind;
        context.phase = PHASE_AWAIT_SUBMIT;
        context.startedAtMs = performance.now();
        this.#started += 1;
        request.method = 'GET';
        request.path = spec.submitPath;
        request.headers = spec.submitHeaders;
        return request;
      }
      case PHASE_SEND_CANCEL:
        context.phase = PHASE_AWAIT_CANCEL;
        request.method = 'PUT';
        request.path = `/_api/job/${context.jobId}/cancel`;
        request.headers = NO_HEADERS;
        return request;
      case PHASE_SEND_FETCH:
        context.phase = PHASE_AWAIT_FETCH;
        request.method = 'PUT';
        request.path = `/_api/job/${context.jobId}`;
        request.headers = NO_HEADERS;
        return request;
      default:
        // Finished, or still awaiting an answer that timed out: start the next operation.
        return null;
    }
  }

  #handleResponse(status: number, context: OperationContext, headers: Record<string, string | string[]>): void {
    const spec = OPERATIONS[context.kind];
    switch (context.phase) {
      case PHASE_AWAIT_SUBMIT: {
        if (status !== spec.expectedSubmitStatus) return this.#fail(context, 'submit', status);
        if (!spec.storesJob) return this.#complete(context);
        const jobId = headerValue(headers, ASYNC_ID_HEADER);
        if (jobId === undefined) return this.#fail(context, 'submit without job id', status);
        context.jobId = jobId;
        context.phase = spec.cancelsJob ? PHASE_SEND_CANCEL : PHASE_SEND_FETCH;
        return;
      }
      case PHASE_AWAIT_CANCEL:
        if (status !== 200) return this.#fail(context, 'cancel', status);
        context.phase = PHASE_SEND_FETCH;
        return;
      case PHASE_AWAIT_FETCH:
        if (status === 204) context.phase = PHASE_SEND_FETCH;
        else if (status === spec.expectedFetchStatus) this.#complete(context);
        else this.#fail(context, 'fetch', status);
        return;
      default:
        throw new Error(`response in phase ${context.phase}: the request sequence lost track of its operation`);
    }
  }

  #complete(context: OperationContext): void {
    this.#completedByKind[context.kind] += 1;
    this.#latency.record((performance.now() - context.startedAtMs) * 1000);
    context.phase = PHASE_FINISHED;
  }

  #fail(context: OperationContext, step: string, status: number): void {
    const key = `${context.kind} ${step} -> ${status}`;
    this.#failures[key] = (this.#failures[key] ?? 0) + 1;
    context.phase = PHASE_FINISHED;
  }
}
