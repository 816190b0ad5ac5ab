import { randomUUID } from 'node:crypto';
import type { WebhookAllowlist } from './webhook-allowlist.js';
import { WebhookClosedError, WebhookConfigError, WebhookTimeoutError, WEBHOOK_FAILURE } from './webhook-errors.js';
import type { WebhookEvent } from './webhook-events.js';
import { failure, sendAttempt, type AttemptResult, type AttemptSettings } from './webhook-attempt.js';
import { prepareWebhookBody, type WebhookBody } from './webhook-body.js';
import { webhookSecretProblem, webhookSigningKey, type WebhookSigningKey } from './webhook-signature.js';
import type {
  DeliveryAttempt, DeliveryRecorder, WebhookDispatcherOptions, WebhookLogger, WebhookPayload, WebhookTarget, WebhookTimer,
} from './webhook-types.js';
import { insecureTargetRefusal, parseWebhookTarget } from './webhook-target.js';
import { webhookSecureContext } from './webhook-tls.js';
import { WebhookQueue } from './webhook-queue.js';

/** Where a delivery is between its attempts; `ended` once it was delivered, refused, given up, dropped or cancelled. */
type DeliveryState = 'waiting' | 'sending' | 'backoff' | 'ended';

/** One delivery across its attempts. */
interface Delivery {
  readonly deliveryId: string;
  readonly event: WebhookEvent;
  readonly url: string;
  /** The target's origin (scheme, host, port): the unit of the per-host limit. */
  readonly origin: string;
  readonly operationId: string;
  /** Serialised once: every attempt sends the same bytes but for the timestamp (and so the signatures). */
  readonly body: WebhookBody;
  readonly key: WebhookSigningKey;
  readonly record: DeliveryRecorder;
  attempt: number;
  state: DeliveryState;
  /** While `backoff`: the timer of the next attempt. */
  retryTimer: WebhookTimer | null;
  /** While `sending`: aborts the attempt (timeout, close). */
  attemptController: AbortController | null;
  /** The operation ended while an attempt was in flight: that attempt finishes, no other starts. */
  cancelled: boolean;
}

const DEFAULT_MAX_ATTEMPTS = 8;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_BASE_DELAY_MS = 1000;
const DEFAULT_MAX_DELAY_MS = 5 * 60_000;
const DEFAULT_MAX_CONCURRENT = 64;
const DEFAULT_MAX_PER_HOST = 8;
const DEFAULT_MAX_QUEUED = 4096;

/**
 * Delivers operation events to webhook receivers: signed POSTs, retried with exponential backoff
 * and full jitter, each attempt reported to the caller. `deliver` never throws and never waits,
 * so a webhook can neither delay nor fail the job it reports on.
 *
 * Attempts run under a global and a per-origin limit, each with a deadline; deliveries beyond
 * the limits wait in a bounded queue (see WebhookQueue). Every attempt in flight holds one
 * socket, so the limits bound the file descriptors webhooks can take from the server's clients.
 */
export class WebhookDispatcher {
  readonly #allowlist: WebhookAllowlist;
  readonly #attemptSettings: AttemptSettings;
  readonly #allowHttp: boolean;
  /** Signs deliveries whose target brings no key of its own. */
  readonly #key: WebhookSigningKey;
  readonly #maxAttempts: number;
  readonly #timeoutMs: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxQueued: number;
  readonly #logger: WebhookLogger | undefined;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #schedule: (callback: () => void, delayMs: number) => WebhookTimer;
  readonly #queue: WebhookQueue<Delivery>;
  /** Deliveries not yet ended, by operation, so that `cancel` finds them. */
  readonly #byOperation = new Map<string, Set<Delivery>>();
  /** Deliveries with an attempt in flight, for `close`. */
  readonly #sending = new Set<Delivery>();
  #closed = false;

  /** @throws {WebhookConfigError} (a TypeError) for an unusable secret or an out-of-range number. */
  constructor(options: WebhookDispatcherOptions) {
    if (typeof options.secret !== 'string' || options.secret === '') {
      throw new WebhookConfigError('webhook secret must be a non-empty string (--webhook.secret)');
    }
    const secretProblem = webhookSecretProblem(options.secret);
    if (secretProblem !== null) throw new WebhookConfigError(`--webhook.secret: ${secretProblem}`);
    this.#key = webhookSigningKey(options.secret);
    this.#allowlist = options.allowlist;
    this.#maxAttempts = positiveInteger('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.#timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.#baseDelayMs = positiveInteger('baseDelayMs', options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS);
    this.#maxDelayMs = positiveInteger('maxDelayMs', options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
    this.#maxQueued = positiveInteger('maxQueued', options.maxQueued ?? DEFAULT_MAX_QUEUED);
    const limits = {
      maxConcurrent: positiveInteger('maxConcurrent', options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT),
      maxPerHost: positiveInteger('maxPerHost', options.maxPerHost ?? DEFAULT_MAX_PER_HOST),
      maxQueued: this.#maxQueued,
    };
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#allowHttp = options.allowHttp ?? false;
    this.#attemptSettings = {
      allowlist: this.#allowlist,
      now: this.#now,
      allowHttp: this.#allowHttp,
      secureContext: options.ca === undefined ? undefined : webhookSecureContext(options.ca),
    };
    this.#random = options.random ?? Math.random;
    this.#schedule = options.schedule ?? scheduleUnref;
    this.#queue = new WebhookQueue<Delivery>(limits, (delivery) => this.#startAttempt(delivery), (delivery) => this.#drop(delivery));
  }

  /**
   * The reason `url` will certainly be refused (bad syntax, http: without `allowHttp`, empty
   * allowlist, an IP or a name no entry can allow), for a 400 on submit; null when delivery may
   * go ahead. Names that only address entries can allow are resolved and checked at each
   * attempt, not here.
   */
  checkTarget(url: string): string | null {
    const target = parseWebhookTarget(url);
    if (typeof target === 'string') return target;
    return insecureTargetRefusal(target, this.#allowHttp) ?? this.#allowlist.refusalWithoutLookup(url);
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

  /**
   * Starts delivering `event`; returns at once. Every attempt is passed to `record`, and so is a
   * delivery dropped because the queue was full (outcome `dropped`). `deliveryId` resumes a
   * delivery an earlier process began (receivers recognise repeats by it); by default a new one.
   */
  deliver(target: WebhookTarget, event: WebhookEvent, payload: WebhookPayload, record: DeliveryRecorder, deliveryId: string = randomUUID()): void {
    const timestamp = new Date(this.#now()).toISOString();
    // One id for all attempts of a delivery: an attempt whose response was lost (timeout after
    // the receiver processed it) is retried, and the receiver recognises the duplicate by id.
    const final = (result: AttemptResult): void => this.#report(record, {
      attempt: 1, at: timestamp, deliveryId, event, url: target.url, ...result,
    });
    if (this.#closed) {
      const closed = new WebhookClosedError();
      final({ outcome: 'failed', error: closed.message, errorCode: closed.code });
      return;
    }
    let body: WebhookBody;
    try {
      body = prepareWebhookBody(event, target.operationId, deliveryId, payload);
    } catch (error) {
      // A payload JSON cannot encode (a BigInt, a cycle) is the caller's bug, but deliver() must
      // not throw at the job: it is reported as one final failed attempt instead.
      final({
        outcome: 'failed',
        error: `payload is not JSON-serialisable: ${error instanceof Error ? error.message : String(error)}`,
        errorCode: WEBHOOK_FAILURE.payload,
      });
      return;
    }
    const parsed = parseWebhookTarget(target.url);
    const delivery: Delivery = {
      deliveryId, event, url: target.url, operationId: target.operationId, body, key: target.key ?? this.#key, record, attempt: 0,
      // A malformed URL is refused by its first attempt; until then it is an origin of its own.
      origin: typeof parsed === 'string' ? target.url : parsed.url.origin,
      state: 'waiting', retryTimer: null, attemptController: null, cancelled: false,
    };
    let deliveries = this.#byOperation.get(delivery.operationId);
    if (deliveries === undefined) this.#byOperation.set(delivery.operationId, deliveries = new Set());
    deliveries.add(delivery);
    this.#queue.push(delivery.origin, delivery);
  }

  /**
   * Ends every delivery of the operation (it was fetched, deleted or expired): waiting ones and
   * pending retries are dropped without a record; an attempt in flight finishes and is recorded,
   * but is not retried.
   */
  cancel(operationId: string): void {
    const deliveries = this.#byOperation.get(operationId);
    if (deliveries === undefined) return;
    this.#byOperation.delete(operationId);
    for (const delivery of deliveries) {
      if (delivery.state === 'waiting') {
        this.#queue.withdraw(delivery.origin, delivery);
        delivery.state = 'ended';
      } else if (delivery.state === 'backoff') {
        delivery.retryTimer!.cancel();
        delivery.retryTimer = null;
        delivery.state = 'ended';
      } else {
        delivery.cancelled = true;
      }
    }
  }

  /** Cancels every pending retry and waiting delivery, and aborts attempts in flight (recorded as failed, ERR_WEBHOOK_CLOSED). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.clear();
    for (const deliveries of this.#byOperation.values()) {
      for (const delivery of deliveries) delivery.retryTimer?.cancel();
    }
    this.#byOperation.clear();
    const closed = new WebhookClosedError();
    for (const delivery of this.#sending) delivery.attemptController!.abort(closed);
  }

  #startAttempt(delivery: Delivery): void {
    delivery.attempt += 1;
    delivery.state = 'sending';
    const controller = new AbortController();
    delivery.attemptController = controller;
    this.#sending.add(delivery);
    const startedAt = this.#now();
    // The deadline covers the whole attempt, DNS lookup included, so that a hung resolver cannot
    // hold a slot either. Callback and arguments instead of a closure; unref'd because the
    // attempt's socket keeps the process alive while it matters.
    const deadline = setTimeout(abortWithTimeout, this.#timeoutMs, controller, this.#timeoutMs);
    deadline.unref();
    sendAttempt(this.#attemptSettings, delivery, controller.signal).then(
      (result) => this.#finishAttempt(delivery, startedAt, deadline, result),
      (error: unknown) => this.#finishAttempt(delivery, startedAt, deadline, failure(error)),
    );
  }

  #finishAttempt(delivery: Delivery, startedAt: number, deadline: NodeJS.Timeout, result: AttemptResult): void {
    clearTimeout(deadline);
    delivery.attemptController = null;
    this.#sending.delete(delivery);
    this.#queue.release(delivery.origin);
    const record: DeliveryAttempt = {
      attempt: delivery.attempt,
      at: new Date(startedAt).toISOString(),
      deliveryId: delivery.deliveryId,
      event: delivery.event,
      url: delivery.url,
      ...result,
    };
    // A refusal is final: the allowlist does not change while the server runs.
    const retry = result.outcome === 'failed' && delivery.attempt < this.#maxAttempts && !this.#closed && !delivery.cancelled;
    if (retry) {
      const delayMs = this.#backoffMs(delivery.attempt);
      record.nextAttemptAt = new Date(this.#now() + delayMs).toISOString();
      delivery.state = 'backoff';
      delivery.retryTimer = this.#schedule(() => {
        delivery.retryTimer = null;
        delivery.state = 'waiting';
        this.#queue.push(delivery.origin, delivery);
      }, delayMs);
    } else {
      this.#end(delivery);
    }
    this.#report(delivery.record, record);
  }

  /** The queue was full and this delivery was the oldest of the longest line: recorded and logged, never silent. */
  #drop(delivery: Delivery): void {
    this.#end(delivery);
    const record: DeliveryAttempt = {
      attempt: delivery.attempt + 1,
      at: new Date(this.#now()).toISOString(),
      deliveryId: delivery.deliveryId,
      event: delivery.event,
      url: delivery.url,
      outcome: 'dropped',
      error: `not sent: more than ${this.#maxQueued} deliveries were waiting (--webhook.max-queued) and ${delivery.origin} had the most`,
      errorCode: WEBHOOK_FAILURE.queueFull,
    };
    const details = { deliveryId: delivery.deliveryId, operationId: delivery.operationId, origin: delivery.origin, attempt: record.attempt };
    if (this.#logger !== undefined) this.#logger.warn(details, 'webhook delivery dropped: queue full');
    else process.emitWarning(`webhook delivery ${delivery.deliveryId} dropped: queue full`, { code: WEBHOOK_FAILURE.queueFull });
    this.#report(delivery.record, record);
  }

  #end(delivery: Delivery): void {
    delivery.state = 'ended';
    const deliveries = this.#byOperation.get(delivery.operationId);
    if (deliveries === undefined) return; // cancelled, or the dispatcher closed
    deliveries.delete(delivery);
    if (deliveries.size === 0) this.#byOperation.delete(delivery.operationId);
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

function abortWithTimeout(controller: AbortController, timeoutMs: number): void {
  controller.abort(new WebhookTimeoutError(timeoutMs));
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
