import type { Caller } from '../auth/index.js';
import { JSON_TYPE, type Exchange } from '../http/index.js';
import type { JobTable } from '../jobs/index.js';
import { parseWebhookEvents, type WebhookEvent } from '../webhooks/index.js';
import { IdempotencyKeys, requestFingerprint } from './idempotency-keys.js';
import type { OperationsApi } from './operations-api.js';
import { sendProblem } from './operations-api.js';
import type { OperationWebhooks } from './operation-webhooks.js';
import { problem } from './problem.js';


/** What a submit asks of the operations surface, read from its headers. */
export interface SubmitIntent {
  /** `Prefer: respond-async` (RFC 7240): answer with an operation (JSON body, Location). */
  respondAsync: boolean;
  idempotencyKey: string | null;
  callbackUrl: string | null;
  callbackEvents: ReadonlySet<WebhookEvent> | null;
  /** SHA-256 of the request, computed once (it covers the whole body) when a key is given. */
  fingerprint: string | null;
}

const NO_INTENT: SubmitIntent = Object.freeze({ respondAsync: false, idempotencyKey: null, callbackUrl: null, callbackEvents: null, fingerprint: null });

export interface OperationSubmitOptions {
  table: JobTable;
  api: OperationsApi;
  webhooks: OperationWebhooks | null;
  retentionMs: number;
}

/**
 * The submit side of operations: `Prefer: respond-async`, `Idempotency-Key` and
 * `x-callback-url` on any handler route. A stored ArangoDB job (`x-arango-async: store`) is
 * registered as an operation too, but keeps ArangoDB's answer and ArangoDB's retention rule
 * (kept until fetched or deleted); an operation submitted with `Prefer` is kept for the
 * retention time after it finishes.
 */
export class OperationSubmit {
  readonly #options: OperationSubmitOptions;
  readonly #idempotency: IdempotencyKeys;

  constructor(options: OperationSubmitOptions) {
    this.#options = options;
    this.#idempotency = new IdempotencyKeys(options.retentionMs);
  }

  /** Reads the intent from flat request headers; answers 400 itself (and returns null) when a header is unusable. */
  intent(headers: readonly string[], exchange: Exchange): SubmitIntent | null {
    let respondAsync = false;
    let idempotencyKey: string | null = null;
    let callbackUrl: string | null = null;
    let callbackEventsHeader: string | undefined;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      switch (headers[i]) {
        case 'prefer': respondAsync ||= prefersRespondAsync(headers[i + 1]); break;
        case 'idempotency-key': idempotencyKey = headers[i + 1]; break;
        case 'x-callback-url': callbackUrl = headers[i + 1]; break;
        case 'x-callback-events': callbackEventsHeader = headers[i + 1]; break;
      }
    }
    if (!respondAsync && idempotencyKey === null && callbackUrl === null) return NO_INTENT;
    if (idempotencyKey !== null && (idempotencyKey === '' || idempotencyKey.length > 255)) {
      sendProblem(exchange, problem(400, 'bad-idempotency-key', 'Bad Idempotency-Key', 'Idempotency-Key must be 1 to 255 characters'));
      return null;
    }
    let callbackEvents: ReadonlySet<WebhookEvent> | null = null;
    if (callbackUrl !== null) {
      const refusal = this.#options.webhooks === null
        ? 'webhooks are disabled: the operator has not set --webhook.allow (and --webhook.secret)'
        : this.#options.webhooks.quickRefusal(callbackUrl);
      const events = parseWebhookEvents(callbackEventsHeader);
      const reason = refusal ?? (typeof events === 'string' ? events : null);
      if (reason !== null) {
        sendProblem(exchange, problem(400, 'webhook-refused', 'Webhook Refused', reason, { callbackUrl }));
        return null;
      }
      callbackEvents = events as ReadonlySet<WebhookEvent>;
    }
    return { respondAsync, idempotencyKey, callbackUrl, callbackEvents, fingerprint: null };
  }

  /**
   * Before queueing, after the body: resolves the callback's host and checks it against the
   * allowlist, answering 400 itself (and resolving false) when refused.
   */
  async callbackAllowed(intent: SubmitIntent, exchange: Exchange): Promise<boolean> {
    if (intent.callbackUrl === null) return true;
    const reason = await this.#options.webhooks!.refusal(intent.callbackUrl);
    if (reason === null) return true;
    sendProblem(exchange, problem(400, 'webhook-refused', 'Webhook Refused', reason, { callbackUrl: intent.callbackUrl }));
    return false;
  }

  /**
   * Before queueing: a repeated `Idempotency-Key` answers with the first operation (and
   * returns true: nothing more to do); one reused for another request is 422.
   */
  answeredByIdempotency(intent: SubmitIntent, caller: Caller, request: IdempotentRequest, exchange: Exchange, arangoStore: boolean): boolean {
    if (intent.idempotencyKey === null) return false;
    const outcome = this.#idempotency.check(caller.username, intent.idempotencyKey, fingerprintOf(intent, request), Date.now());
    if (outcome.kind === 'new') return false;
    if (outcome.kind === 'conflict') {
      sendProblem(exchange, problem(422, 'idempotency-key-reused', 'Idempotency-Key Reused',
        `Idempotency-Key was first used for another request (operation ${outcome.jobId}); use a new key for a different method, path or body`,
        { operationId: String(outcome.jobId) }));
      return true;
    }
    const job = this.#options.table.get(outcome.jobId, caller);
    if (job === undefined) return false; // the first operation is gone (fetched or expired): run anew
    if (!intent.respondAsync && arangoStore) answerArango(exchange, outcome.jobId);
    else this.#answerOperation(exchange, outcome.jobId, arangoStore, this.#options.api.describe(job, Date.now()));
    return true;
  }

  /** After queueing: records the job as an operation and answers 202. */
  accepted(jobId: number, intent: SubmitIntent, caller: Caller, request: IdempotentRequest, exchange: Exchange, arangoStore: boolean): void {
    const nowMs = Date.now();
    const { table, webhooks, retentionMs } = this.#options;
    table.add(jobId, caller.username, nowMs, arangoStore && !intent.respondAsync ? 0 : retentionMs);
    if (intent.callbackUrl !== null) webhooks!.register(jobId, intent.callbackUrl, intent.callbackEvents!);
    if (intent.idempotencyKey !== null) {
      this.#idempotency.remember(caller.username, intent.idempotencyKey, fingerprintOf(intent, request), jobId, nowMs);
    }
    if (!intent.respondAsync) return answerArango(exchange, jobId);
    this.#answerOperation(exchange, jobId, arangoStore, this.#options.api.describe(table.get(jobId, caller)!, nowMs));
  }

  expire(nowMs: number): void {
    this.#idempotency.expire(nowMs);
  }

  /** RFC 7240's answer: 202 with the operation, its Location, and (for ArangoDB clients too) its job id. */
  #answerOperation(exchange: Exchange, jobId: number, arangoStore: boolean, description: Record<string, unknown>): void {
    const statusUrl = `/_api/operations/${jobId}`;
    const body = { ...description, createdAt: (description.timestamps as { created: string }).created, statusUrl };
    const headers = ['content-type', JSON_TYPE, 'location', statusUrl, 'preference-applied', 'respond-async'];
    if (arangoStore) headers.push('x-arango-async-id', String(jobId));
    exchange.send(202, headers, JSON.stringify(body));
  }
}

export interface IdempotentRequest {
  method: string;
  path: string;
  query: string;
  body: Uint8Array | null;
}

/** ArangoDB's answer to `x-arango-async: store`: an empty 202 carrying the job id. */
function answerArango(exchange: Exchange, jobId: number): void {
  exchange.send(202, [], null, 'x-arango-async-id', String(jobId));
}

function fingerprintOf(intent: SubmitIntent, request: IdempotentRequest): string {
  intent.fingerprint ??= requestFingerprint(request.method, request.path, request.query, request.body);
  return intent.fingerprint;
}

/** RFC 7240: `Prefer: respond-async, wait=10` — a comma-separated list of preferences with parameters. */
function prefersRespondAsync(value: string): boolean {
  for (const preference of value.split(',')) {
    if (preference.split(';')[0].trim().toLowerCase() === 'respond-async') return true;
  }
  return false;
}
