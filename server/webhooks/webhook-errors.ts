/**
 * Errors of outbound webhook delivery. Callers branch on `code`, never on the message.
 *
 * Configuration errors are TypeErrors (a bad `--webhook.*` value is a wrong argument, as
 * piscina and Node core report bad options); the others are reported through a delivery's
 * attempt records, never thrown at the job.
 */
export class WebhookConfigError extends TypeError {
  readonly code = 'ERR_WEBHOOK_CONFIG';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WebhookConfigError';
  }
}

/** Base of the errors one delivery attempt can fail with. */
export class WebhookError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The target's host name could not be resolved (or resolved to nothing); retried like a network error. */
export class WebhookLookupError extends WebhookError {
  constructor(hostname: string, options?: ErrorOptions) {
    const causeCode = (options?.cause as { code?: unknown } | undefined)?.code;
    super('ERR_WEBHOOK_LOOKUP', `cannot resolve ${hostname}${typeof causeCode === 'string' ? ` (${causeCode})` : ''}`, options);
  }
}

/** No response status within the attempt's deadline. */
export class WebhookTimeoutError extends WebhookError {
  constructor(timeoutMs: number) {
    super('ERR_WEBHOOK_TIMEOUT', `no response within ${timeoutMs} ms`);
  }
}

/** The dispatcher was closed while the attempt was running or before the delivery started. */
export class WebhookClosedError extends WebhookError {
  constructor() {
    super('ERR_WEBHOOK_CLOSED', 'the webhook dispatcher is closed');
  }
}

/** `errorCode` values of attempt records that do not come from a thrown error. */
export const WEBHOOK_FAILURE = {
  /** The allowlist refused the target; no connection was made. */
  refused: 'ERR_WEBHOOK_REFUSED',
  /** The receiver answered with a status outside 2xx (other than a redirect). */
  status: 'ERR_WEBHOOK_STATUS',
  /** The payload could not be serialised as JSON; nothing was sent. */
  payload: 'ERR_WEBHOOK_PAYLOAD',
  /** The receiver answered 3xx; redirects are never followed. */
  redirect: 'ERR_WEBHOOK_REDIRECT',
  /** The queue of waiting deliveries was full and this one was dropped unsent (outcome `dropped`). */
  queueFull: 'ERR_WEBHOOK_QUEUE_FULL',
} as const;
