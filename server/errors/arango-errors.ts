import { JOB_FAILURE, type JobFailure } from '../../engine/index.js';

/**
 * ArangoDB's error numbers used by this server, and the one place where engine error codes
 * become HTTP statuses (STYLE.md §6). Error bodies are ArangoDB's:
 * `{"error":true,"code":HTTP,"errorNum":N,"errorMessage":"..."}`.
 */
export const ERROR_NUM = {
  canceled: 21,
  shutdownInProgress: 30,
  badParameter: 400,
  unauthorized: 401,
  notFound: 404,
  methodNotAllowed: 405,
  requestEntityTooLarge: 413,
  /** ArangoDB's TRI_ERROR_RESOURCE_LIMIT ("resource limit exceeded"), sent with HTTP 429. */
  resourceLimit: 32,
  /** ArangoDB's ERROR_HTTP_ENHANCE_YOUR_CALM, its error for a client calling too often: failed logins (HTTP 429). */
  enhanceYourCalm: 420,
  serviceUnavailable: 503,
  internal: 4,
  queueFull: 21003,
} as const;

export interface ArangoError {
  status: number;
  errorNum: number;
  message: string;
}

/**
 * Engine codes → how a client sees them: errors `engine.submit` throws, and the `code` of a
 * job's `failed` event. ArangoDB's seed says a full queue is HTTP 500, errorNum 21003. A
 * failure without a message of its own here keeps the engine's message.
 */
const ENGINE_CODES: Readonly<Record<string, { status: number; errorNum: number; message?: string }>> = {
  ERR_QUEUE_FULL: { status: 500, errorNum: ERROR_NUM.queueFull, message: 'named queue is full' },
  ERR_ENGINE_CLOSED: { status: 503, errorNum: ERROR_NUM.shutdownInProgress, message: 'shutdown in progress' },
  [JOB_FAILURE.handlerError]: { status: 500, errorNum: ERROR_NUM.internal },
  [JOB_FAILURE.workerTerminated]: { status: 500, errorNum: ERROR_NUM.internal },
  [JOB_FAILURE.badResponse]: { status: 500, errorNum: ERROR_NUM.internal },
};

/** How jobs that did not end with their handler's answer answer instead. */
export const JOB_ENDINGS = {
  timedOut: { status: 504, errorNum: ERROR_NUM.canceled, message: 'job timed out: it ran past its deadline and was cancelled' },
  cancelled: { status: 410, errorNum: ERROR_NUM.canceled, message: 'canceled request' },
  shutdown: { status: 503, errorNum: ERROR_NUM.shutdownInProgress, message: 'shutdown in progress' },
} as const satisfies Record<string, ArangoError>;

/** Maps an error thrown by `engine.submit`; undefined for errors that are bugs (rethrow those). */
export function errorFromEngine(error: unknown): ArangoError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const mapped = ENGINE_CODES[code];
  return mapped?.message === undefined ? undefined : { status: mapped.status, errorNum: mapped.errorNum, message: mapped.message };
}

/**
 * A failed job's answer. A handler's error may say its own HTTP status (`status` or
 * `statusCode`, 400-599) and ArangoDB `errorNum`; without an errorNum, a 500 is errorNum 4
 * ("internal error") and any other status its own number, as ArangoDB's HTTP errors are.
 */
export function failureAnswer(failure: JobFailure): ArangoError {
  const mapped = ENGINE_CODES[failure.code] ?? ENGINE_CODES[JOB_FAILURE.handlerError];
  let status = mapped.status;
  let errorNum: number | undefined;
  if (failure.code === JOB_FAILURE.handlerError && failure.details !== null) {
    const own = failure.details.status ?? failure.details.statusCode;
    if (typeof own === 'number' && Number.isInteger(own) && own >= 400 && own <= 599) status = own;
    if (typeof failure.details.errorNum === 'number') errorNum = failure.details.errorNum;
  }
  return { status, errorNum: errorNum ?? (status === 500 ? ERROR_NUM.internal : status), message: failure.message };
}

export function errorBody(status: number, errorNum: number, message: string): string {
  return JSON.stringify({ error: true, code: status, errorNum, errorMessage: message });
}
