/**
 * Every way the server refuses or fails a request, in one table (STYLE.md §6; the shape of
 * fastify's lib/errors.js). A row names the HTTP status, the ArangoDB `errorNum` of the
 * ArangoDB-style body `{"error":true,"code":HTTP,"errorNum":N,"errorMessage":"..."}`, and
 * the RFC 9457 problem type and title the operations surface answers with. Call sites pick a
 * row and say what happened in their own words; README "Errors" lists every row (a test
 * checks it).
 *
 * ArangoDB's numbers: 400, 401, 404, 405, 413, 503 are its HTTP errors (errorNum = status);
 * 11 "forbidden" is what it answers a request without valid credentials (HTTP 401);
 * 4 "internal error", 21 "canceled request", 30 "shutdown in progress", 32 "resource limit
 * exceeded", 420 "enhance your calm" (its answer to clients calling too often), 21003 "named
 * queue is full".
 */
export interface ServerError {
  /** Stable name: what tests and the docs call it. */
  readonly code: string;
  readonly status: number;
  readonly errorNum: number;
  /** Problem type slug (appended to the problem type base URL) and title. */
  readonly type: string;
  readonly title: string;
}

function row(code: string, status: number, errorNum: number, type: string, title: string): ServerError {
  return Object.freeze({ code, status, errorNum, type, title });
}

export const ERRORS = {
  badParameter: row('ERR_BAD_PARAMETER', 400, 400, 'bad-parameter', 'Bad Parameter'),
  repeatedHeader: row('ERR_REPEATED_HEADER', 400, 400, 'repeated-header', 'Repeated Header'),
  badIdempotencyKey: row('ERR_BAD_IDEMPOTENCY_KEY', 400, 400, 'bad-idempotency-key', 'Bad Idempotency-Key'),
  webhookRefused: row('ERR_WEBHOOK_REFUSED', 400, 400, 'webhook-refused', 'Webhook Refused'),
  badSubscription: row('ERR_BAD_SUBSCRIPTION', 400, 400, 'subscription-refused', 'Subscription Refused'),
  unauthorized: row('ERR_UNAUTHORIZED', 401, 11, 'unauthorized', 'Unauthorized'),
  wrongCredentials: row('ERR_WRONG_CREDENTIALS', 401, 401, 'wrong-credentials', 'Wrong Credentials'),
  operationForbidden: row('ERR_FORBIDDEN', 403, 11, 'forbidden', 'Forbidden'),
  notFound: row('ERR_NOT_FOUND', 404, 404, 'not-found', 'Not Found'),
  operationNotFound: row('ERR_OPERATION_NOT_FOUND', 404, 404, 'not-found', 'Operation Not Found'),
  subscriptionNotFound: row('ERR_SUBSCRIPTION_NOT_FOUND', 404, 404, 'subscription-refused', 'Subscription Refused'),
  methodNotAllowed: row('ERR_METHOD_NOT_ALLOWED', 405, 405, 'method-not-allowed', 'Method Not Allowed'),
  notAcceptable: row('ERR_NOT_ACCEPTABLE', 406, 406, 'not-acceptable', 'Not Acceptable'),
  operationFinished: row('ERR_OPERATION_FINISHED', 409, 409, 'operation-finished', 'Operation Already Finished'),
  operationNotFinished: row('ERR_OPERATION_NOT_FINISHED', 409, 409, 'operation-not-finished', 'Operation Has No Result'),
  operationNotRetryable: row('ERR_OPERATION_NOT_RETRYABLE', 409, 409, 'operation-not-retryable', 'Operation Cannot Run Again'),
  canceled: row('ERR_CANCELED', 410, 21, 'operation-cancelled', 'Operation Cancelled'),
  operationExpired: row('ERR_OPERATION_EXPIRED', 410, 410, 'operation-expired', 'Operation Expired'),
  bodyTooLarge: row('ERR_BODY_TOO_LARGE', 413, 413, 'body-too-large', 'Request Body Too Large'),
  idempotencyKeyReused: row('ERR_IDEMPOTENCY_KEY_REUSED', 422, 422, 'idempotency-key-reused', 'Idempotency-Key Reused'),
  userLimit: row('ERR_USER_LIMIT', 429, 32, 'user-limit', 'Too Many Jobs'),
  tooManySubscriptions: row('ERR_TOO_MANY_SUBSCRIPTIONS', 429, 32, 'subscription-refused', 'Subscription Refused'),
  loginThrottled: row('ERR_LOGIN_THROTTLED', 429, 420, 'login-throttled', 'Too Many Failed Logins'),
  internal: row('ERR_INTERNAL', 500, 4, 'internal-error', 'Internal Error'),
  queueFull: row('ERR_QUEUE_FULL', 500, 21003, 'queue-full', 'Queue Full'),
  shutdown: row('ERR_SHUTDOWN', 503, 30, 'shutdown-in-progress', 'Shutdown In Progress'),
  overloaded: row('ERR_OVERLOADED', 503, 503, 'overloaded', 'Service Unavailable'),
  storeUnavailable: row('ERR_STORE_UNAVAILABLE', 503, 503, 'store-unavailable', 'Job Store Unavailable'),
  timedOut: row('ERR_TIMED_OUT', 504, 21, 'operation-timed-out', 'Operation Timed Out'),
  storeFull: row('ERR_STORE_FULL', 507, 32, 'insufficient-storage', 'Insufficient Storage'),
  serverStopped: row('ERR_SERVER_STOPPED', 500, 4, 'server-stopped', 'Server Stopped While The Job Ran'),
  nodeLost: row('ERR_NODE_LOST', 500, 4, 'node-lost', 'Node Lost While The Job Ran'),
  /** A failed job's problem on the operations surface; its status is the job's own answer. */
  operationFailed: row('ERR_OPERATION_FAILED', 500, 4, 'operation-failed', 'Operation Failed'),
} as const satisfies Record<string, ServerError>;

/** ArangoDB's error body. */
export function errorBody(error: Pick<ServerError, 'status' | 'errorNum'>, message: string): string {
  return JSON.stringify({ error: true, code: error.status, errorNum: error.errorNum, errorMessage: message });
}
