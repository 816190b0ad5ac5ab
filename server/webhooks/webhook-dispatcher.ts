import { randomUUID } from 'node:crypto';
import type { WebhookAllowlist } from './webhook-allowlist.js';
import { WebhookClosedError, WebhookConfigError, WEBHOOK_FAILURE } from './webhook-errors.js';
import type { WebhookEvent } from './webhook-events.js';
import { postWebhook } from './webhook-request.js';
import { signWebhook } from './webhook-signature.js';
import type {
  DeliveryAttempt, DeliveryRecorder, WebhookDispatcherOptions, WebhookLogger, WebhookPayload, WebhookTarget, WebhookTimer,
} from './webhook-types.js';
import { parseWebhookTarget } from './webhook-target.js';

/** One delivery across its attempts. */
interface Delivery {
  readonly deliveryId: string;
  readonly event: WebhookEvent;
  readonly url: string;
  readonly operationId: string;
  /** Serialised once: every attempt sends the same bytes, only timestamp and signature change. */
  readonly body: string;
  readonly record: DeliveryRecorder;
  attempt: number;
}

type AttemptResult = Pick<DeliveryAttempt, 'outcome' | 'statusCode' | 'error' | 'errorCode'>;

const DEFAULT_MAX_ATTEMPTS = 8;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_BASE_DELAY_MS = 1000;
const DEFAULT_MAX_DELAY_MS = 5 * 60_000;
const USER_AGENT = 'arango-async-jobs-webhook/1';

/**
 * Delivers operation events to webhook receivers: signed POSTs, retried with exponential backoff
 * and full jitter, each attempt reported to the caller. `deliver` never throws and never waits,
 * so a webhook can neither delay nor fail the job it reports on.
 */
export class WebhookDispatcher {
  readonly #allowlist: WebhookAllowlist;
  readonly #secret: string;
  readonly #maxAttempts: number;
  readonly #timeoutMs: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #logger: WebhookLogger | undefined;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #schedule: (callback: () => void, delayMs: number) => WebhookTimer;
  readonly #pendingRetries = new Set<WebhookTimer>();
  /** Aborted by `close()`, ending every attempt in flight. */
  readonly #closing = new AbortController();

  /** @throws {WebhookConfigError} (a TypeError) for an empty secret or an out-of-range number. */
  constructor(options: WebhookDispatcherOptions) {
    if (typeof options.secret !== 'string' || options.secret === '') {
      throw new WebhookConfigError('webhook secret must be a non-empty string (--webhook.secret)');
    }
    this.#allowlist = options.allowlist;
    this.#secret = options.secret;
    this.#maxAttempts = positiveInteger('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.#timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.#baseDelayMs = positiveInteger('baseDelayMs', options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS);
    this.#maxDelayMs = positiveInteger('maxDelayMs', options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#schedule = options.schedule ?? scheduleUnref;
  }

  /**
   * The reason `url` cannot be a webhook target by its syntax alone (for a 400 on submit), or
   * null. Whether the allowlist lets it through is `checkTarget`'s question.
   */
  static checkTargetSyntax(url: string): string | null {
    const target = parseWebhookTarget(url);
    return typeof target === 'string' ? target : null;
  }

  /**
   * The reason `url` will certainly be refused (bad syntax, empty allowlist, an IP or a name no
   * entry can allow), for a 400 on submit; null when delivery may go ahead. Names that only
   * address entries can allow are resolved and checked at each attempt, not here.
   */
  checkTarget(url: string): string | null {
    return WebhookDispatcher.checkTargetSyntax(url) ?? this.#allowlist.refusalWithoutLookup(url);
  }

  /**
   * The reason `url` is refused now, resolving its host name if needed (for a 400 on submit,
   * before anything is queued); null when it is allowed. Delivery checks again at each attempt
   * and connects to the address it checked.
   */
  async refusal(url: string): Promise<string | null> {
    const early = this.checkTarget(url);
    if (early !== null) return early;
    try {
      const check = await this.#allowlist.check(url);
      return check.allowed ? null : check.reason;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_WEBHOOK_LOOKUP') throw error;
      return `${(error as Error).message}: a webhook target must resolve to an allowed address`;
    }
  }

  /** Starts delivering `event`; returns at once. Every attempt is passed to `record`. */
  deliver(target: WebhookTarget, event: WebhookEvent, payload: WebhookPayload, record: DeliveryRecorder): void {
    const timestamp = new Date(this.#now()).toISOString();
    const fixed = { event, operationId: target.operationId, timestamp };
    // One id for all attempts of a delivery: an attempt whose response was lost (timeout after
    // the receiver processed it) is retried, and the receiver recognises the duplicate by id.
    const deliveryId = randomUUID();
    let body: string;
    try {
      // `fixed` twice: first for the documented key order, last so the payload cannot override it.
      body = JSON.stringify({ ...fixed, ...payload, ...fixed });
    } catch (error) {
      // A payload JSON cannot encode (a BigInt, a cycle) is the caller's bug, but deliver() must
      // not throw at the job: it is reported as one final failed attempt instead.
      this.#report(record, {
        attempt: 1, at: timestamp, deliveryId, event, url: target.url, outcome: 'failed',
        error: `payload is not JSON-serialisable: ${error instanceof Error ? error.message : String(error)}`,
        errorCode: WEBHOOK_FAILURE.payload,
      });
      return;
    }
    const delivery: Delivery = {
      deliveryId, event, url: target.url, operationId: target.operationId, body, record, attempt: 0,
    };
    this.#startAttempt(delivery);
  }

  /** Cancels every pending retry and aborts attempts in flight (recorded as failed, ERR_WEBHOOK_CLOSED). */
  close(): void {
    this.#closing.abort(new WebhookClosedError());
    for (const timer of this.#pendingRetries) timer.cancel();
    this.#pendingRetries.clear();
  }

  #startAttempt(delivery: Delivery): void {
    delivery.attempt += 1;
    const startedAt = this.#now();
    this.#attempt(delivery).then(
      (result) => this.#finishAttempt(delivery, startedAt, result),
      (error: unknown) => this.#finishAttempt(delivery, startedAt, failure(error)),
    );
  }

  /** Runs one attempt; rejects with the network, lookup, timeout or close error that failed it. */
  async #attempt(delivery: Delivery): Promise<AttemptResult> {
    if (this.#closing.signal.aborted) throw this.#closing.signal.reason;
    const verdict = await this.#allowlist.check(delivery.url);
    if (!verdict.allowed) return { outcome: 'refused', error: verdict.reason, errorCode: WEBHOOK_FAILURE.refused };
    const target = parseWebhookTarget(delivery.url);
    // Unreachable after an allowed verdict (the allowlist parses the same way); narrows the type.
    if (typeof target === 'string') return { outcome: 'refused', error: target, errorCode: WEBHOOK_FAILURE.refused };
    // Signed per attempt: a retry minutes later carries a fresh timestamp, so receivers can
    // refuse old timestamps (replays) without refusing late retries.
    const timestamp = String(Math.floor(this.#now() / 1000));
    const response = await postWebhook({
      url: target.url,
      host: target.host,
      address: verdict.address,
      family: verdict.family,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': USER_AGENT,
        'X-Webhook-Event': delivery.event,
        'X-Operation-Id': delivery.operationId,
        'X-Webhook-Id': delivery.deliveryId,
        'X-Webhook-Timestamp': timestamp,
        'X-Webhook-Signature': signWebhook(this.#secret, timestamp, delivery.body),
      },
      body: delivery.body,
      timeoutMs: this.#timeoutMs,
      signal: this.#closing.signal,
    });
    const { statusCode } = response;
    if (statusCode >= 200 && statusCode < 300) return { outcome: 'delivered', statusCode };
    if (statusCode >= 300 && statusCode < 400) {
      const location = response.location === undefined ? '' : ` to ${response.location}`;
      return { outcome: 'failed', statusCode, error: `redirect${location} not followed`, errorCode: WEBHOOK_FAILURE.redirect };
    }
    return { outcome: 'failed', statusCode, error: `receiver answered ${statusCode}`, errorCode: WEBHOOK_FAILURE.status };
  }

  #finishAttempt(delivery: Delivery, startedAt: number, result: AttemptResult): void {
    const record: DeliveryAttempt = {
      attempt: delivery.attempt,
      at: new Date(startedAt).toISOString(),
      deliveryId: delivery.deliveryId,
      event: delivery.event,
      url: delivery.url,
      ...result,
    };
    // A refusal is final: the allowlist does not change while the server runs.
    const retry = result.outcome === 'failed' && delivery.attempt < this.#maxAttempts && !this.#closing.signal.aborted;
    if (retry) {
      const delayMs = this.#backoffMs(delivery.attempt);
      record.nextAttemptAt = new Date(this.#now() + delayMs).toISOString();
      const timer = this.#schedule(() => {
        this.#pendingRetries.delete(timer);
        this.#startAttempt(delivery);
      }, delayMs);
      this.#pendingRetries.add(timer);
    }
    this.#report(delivery.record, record);
  }

  #report(recorder: DeliveryRecorder, attempt: DeliveryAttempt): void {
    try {
      recorder(attempt);
    } catch (error) {
      // The recorder belongs to the caller; its failure must not stop the retries of this delivery.
      this.#logRecorderError(error, attempt);
    }
  }

  /** Full jitter (uniform in [0, cap)): spreads the retries of many failed deliveries instead of synchronising them. */
  #backoffMs(failedAttempt: number): number {
    const capMs = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (failedAttempt - 1));
    return Math.floor(this.#random() * capMs);
  }

  #logRecorderError(error: unknown, record: DeliveryAttempt): void {
    const details = { err: error, deliveryId: record.deliveryId, attempt: record.attempt };
    if (this.#logger !== undefined) this.#logger.error(details, 'webhook delivery recorder threw');
    else process.emitWarning(`webhook delivery recorder threw: ${String(error)}`, { code: 'ERR_WEBHOOK_RECORDER' });
  }
}

/** The record fields of an attempt that failed with `error`. */
function failure(error: unknown): AttemptResult {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    outcome: 'failed',
    error: error instanceof Error ? error.message : String(error),
    ...(typeof code === 'string' ? { errorCode: code } : {}),
  };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new WebhookConfigError(`webhook ${name} must be a positive integer, not ${String(value)}`);
  }
  return value;
}

function scheduleUnref(callback: () => void, delayMs: number): WebhookTimer {
  // Unref'd: a pending retry must not keep a server that is otherwise done from exiting.
  const handle = setTimeout(callback, delayMs);
  handle.unref();
  return { cancel: () => clearTimeout(handle) };
}
