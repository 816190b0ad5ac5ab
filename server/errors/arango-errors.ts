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

/** Engine error `code` → how a client sees it. ArangoDB's seed says a full queue is HTTP 500, errorNum 21003. */
const ENGINE_CODE_TO_ERROR: Record<string, Omit<ArangoError, 'message'>> = {
  ERR_QUEUE_FULL: { status: 500, errorNum: ERROR_NUM.queueFull },
  ERR_ENGINE_CLOSED: { status: 503, errorNum: ERROR_NUM.shutdownInProgress },
};

const ENGINE_CODE_MESSAGE: Record<string, string> = {
  ERR_QUEUE_FULL: 'named queue is full',
  ERR_ENGINE_CLOSED: 'shutdown in progress',
};

/** Maps an error thrown by `engine.submit`; undefined for errors that are bugs (rethrow those). */
export function errorFromEngine(error: unknown): ArangoError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const mapped = ENGINE_CODE_TO_ERROR[code];
  return mapped === undefined ? undefined : { ...mapped, message: ENGINE_CODE_MESSAGE[code] };
}

export function errorBody(status: number, errorNum: number, message: string): string {
  return JSON.stringify({ error: true, code: status, errorNum, errorMessage: message });
}
