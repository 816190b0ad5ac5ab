/**
 * Errors the client throws. Every one is a {@link JobClientError}; a program tells them apart
 * with `instanceof` (or by `code`, which survives structured cloning and logging).
 */

/** Base class of every error the client throws on purpose. */
export class JobClientError extends Error {
  /** A stable name of the error kind, e.g. `OPERATION_FAILED`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The server answered an HTTP error status (4xx, 5xx) where the call expected success. */
export class HttpError extends JobClientError {
  /** The HTTP status, e.g. 404 or 503. */
  readonly status: number;
  /** The answer's body: parsed JSON (an RFC 9457 problem or ArangoDB's error body) or text. */
  readonly body: unknown;
  /** Seconds the server asked to wait before trying again (`Retry-After`), when it said so. */
  readonly retryAfterSeconds: number | null;

  constructor(status: number, body: unknown, retryAfterSeconds: number | null, what: string) {
    super('HTTP_ERROR', `${what}: HTTP ${status}${describeBody(body)}`);
    this.status = status;
    this.body = body;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The operation ended FAILED: `problem` is its `error` (type, title, status, detail, retryable). */
export class OperationFailedError extends JobClientError {
  readonly operationId: string;
  /** The operation's `error` as its status shows it. */
  readonly problem: Record<string, unknown> | null;

  constructor(operationId: string, problem: Record<string, unknown> | null) {
    super('OPERATION_FAILED', `operation ${operationId} failed${typeof problem?.detail === 'string' ? `: ${problem.detail}` : ''}`);
    this.operationId = operationId;
    this.problem = problem;
  }
}

/** The operation ended CANCELLED (by this client or anyone else). */
export class OperationCancelledError extends JobClientError {
  readonly operationId: string;
  /** The reason given with the first cancel request, when known. */
  readonly reason: string | null;

  constructor(operationId: string, reason: string | null) {
    super('OPERATION_CANCELLED', `operation ${operationId} was cancelled${reason === null ? '' : `: ${reason}`}`);
    this.operationId = operationId;
    this.reason = reason;
  }
}

/** The operation is gone: its retention ran out, or it was deleted or fetched (HTTP 410 or 404). */
export class OperationGoneError extends JobClientError {
  readonly operationId: string;
  /** When it expired (ISO 8601), if the server said. */
  readonly expiredAt: string | null;

  constructor(operationId: string, expiredAt: string | null, status: number) {
    super('OPERATION_GONE', `operation ${operationId} is gone (HTTP ${status}${expiredAt === null ? '' : `, expired at ${expiredAt}`})`);
    this.operationId = operationId;
    this.expiredAt = expiredAt;
  }
}

/** `wait({ timeoutMs })` ran out before the operation ended (it keeps running on the server). */
export class WaitTimeoutError extends JobClientError {
  readonly operationId: string;

  constructor(operationId: string, timeoutMs: number) {
    super('WAIT_TIMEOUT', `operation ${operationId} did not end within ${timeoutMs} ms`);
    this.operationId = operationId;
  }
}

/** A webhook delivery that does not verify: bad or missing signature, or a timestamp outside the tolerance. */
export class WebhookVerificationError extends JobClientError {
  constructor(message: string) {
    super('WEBHOOK_INVALID', message);
  }
}

function describeBody(body: unknown): string {
  if (body !== null && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    const text = record.detail ?? record.errorMessage ?? record.title;
    if (typeof text === 'string') return `: ${text}`;
  }
  return typeof body === 'string' && body !== '' ? `: ${body.slice(0, 200)}` : '';
}
