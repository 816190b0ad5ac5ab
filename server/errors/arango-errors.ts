import { JOB_FAILURE, type JobFailure } from '../../engine/index.js';
import { ERRORS, type ServerError } from './error-table.js';

/** An error answer with its own words: a row of the error table (or a handler's own status) and a message. */
export interface ArangoError {
  status: number;
  errorNum: number;
  message: string;
}

function withMessage(error: ServerError, message: string): ArangoError {
  return { status: error.status, errorNum: error.errorNum, message };
}

/**
 * Engine codes → rows of the error table: errors `engine.submit` throws (with the message
 * ArangoDB clients know), and the `code` of a job's `failed` event (which keeps the engine's
 * message).
 */
const SUBMIT_ERRORS: Readonly<Record<string, ArangoError>> = {
  ERR_QUEUE_FULL: withMessage(ERRORS.queueFull, 'named queue is full'),
  ERR_ENGINE_CLOSED: withMessage(ERRORS.shutdown, 'shutdown in progress'),
};
const FAILURE_ERRORS: Readonly<Record<string, ServerError>> = {
  [JOB_FAILURE.handlerError]: ERRORS.internal,
  [JOB_FAILURE.workerTerminated]: ERRORS.internal,
  [JOB_FAILURE.badResponse]: ERRORS.internal,
};

/** How jobs that did not end with their handler's answer answer instead. */
export const JOB_ENDINGS = {
  timedOut: withMessage(ERRORS.timedOut, 'job timed out: it ran past its deadline and was cancelled'),
  cancelled: withMessage(ERRORS.canceled, 'canceled request'),
  shutdown: withMessage(ERRORS.shutdown, 'shutdown in progress'),
  /** A durable server restarted after it died while the job ran, and its route is not idempotent. */
  serverStopped: withMessage(ERRORS.serverStopped,
    'the server stopped while this job ran; it was not run again because its route is not idempotent (it may have run in part or whole)'),
  nodeLost: withMessage(ERRORS.nodeLost,
    'node lost: the cluster node running this job stopped renewing its lease; it was not run again because its route is not idempotent (it may have run in part or whole)'),
} as const;

/** Maps an error thrown by `engine.submit`; undefined for errors that are bugs (rethrow those). */
export function errorFromEngine(error: unknown): ArangoError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? SUBMIT_ERRORS[code] : undefined;
}

/**
 * A failed job's answer. A handler's error may say its own HTTP status (`status` or
 * `statusCode`, 400-599) and ArangoDB `errorNum`; without an errorNum, a 500 is errorNum 4
 * ("internal error") and any other status its own number, as ArangoDB's HTTP errors are.
 */
export function failureAnswer(failure: JobFailure): ArangoError {
  const mapped = FAILURE_ERRORS[failure.code] ?? ERRORS.internal;
  let status = mapped.status;
  let errorNum: number | undefined;
  if (failure.code === JOB_FAILURE.handlerError && failure.details !== null) {
    const own = failure.details.status ?? failure.details.statusCode;
    if (typeof own === 'number' && Number.isInteger(own) && own >= 400 && own <= 599) status = own;
    if (typeof failure.details.errorNum === 'number') errorNum = failure.details.errorNum;
  }
  return { status, errorNum: errorNum ?? (status === 500 ? ERRORS.internal.errorNum : status), message: failure.message };
}
