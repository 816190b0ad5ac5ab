import type { SubmitRequest } from '../../engine/index.js';
import type { Caller } from '../auth/index.js';
import { JSON_TYPE, type Answer } from '../http/index.js';
import type { JobStore, JobView, NewJob, StoredRequest, WebhookRegistration } from '../jobs/index.js';
import { parseWebhookEvents, webhookSecretProblem, type WebhookEvent } from '../webhooks/index.js';
import { requestFingerprint } from './request-fingerprint.js';
import type { OperationsApi } from './operations-api.js';
import { problemAnswer } from './operations-api.js';
import type { OperationWebhooks } from './operation-webhooks.js';
import { problem } from './problem.js';
import { ERRORS } from '../errors/index.js';


/** What a submit asks of the operations surface, read from its headers. */
export interface SubmitIntent {
  readonly kind: 'intent';
  /** `Prefer: respond-async` (RFC 7240): answer with an operation (JSON body, Location). */
  respondAsync: boolean;
  idempotencyKey: string | null;
  callbackUrl: string | null;
  callbackEvents: ReadonlySet<WebhookEvent> | null;
  /** `x-callback-secret`: signs this webhook's deliveries instead of `--webhook.secret`. */
  callbackSecret: string | null;
  /** SHA-256 of the request, computed once (it covers the whole body) when a key is given. */
  fingerprint: string | null;
}

/** A header that makes the submit unusable: answered with this, and nothing is queued. */
export interface SubmitRefusal {
  readonly kind: 'refused';
  readonly answer: Answer;
}

const NO_INTENT: SubmitIntent = Object.freeze({
  kind: 'intent', respondAsync: false, idempotencyKey: null, callbackUrl: null, callbackEvents: null, callbackSecret: null, fingerprint: null,
});

function refused(answer: Answer): SubmitRefusal {
  return { kind: 'refused', answer };
}

export interface OperationSubmitOptions {
  store: JobStore;
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

  constructor(options: OperationSubmitOptions) {
    this.#options = options;
  }

  /** Reads the intent from flat request headers, or refuses (400) a header that is unusable. */
  intent(headers: readonly string[]): SubmitIntent | SubmitRefusal {
    let respondAsync = false;
    let idempotencyKey: string | null = null;
    let callbackUrl: string | null = null;
    let callbackEventsHeader: string | undefined;
    let callbackSecret: string | null = null;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      switch (headers[i]) {
        case 'prefer': respondAsync ||= prefersRespondAsync(headers[i + 1]); break;
        case 'idempotency-key': idempotencyKey = headers[i + 1]; break;
        case 'x-callback-url': callbackUrl = headers[i + 1]; break;
        case 'x-callback-events': callbackEventsHeader = headers[i + 1]; break;
        case CALLBACK_SECRET_HEADER: callbackSecret = headers[i + 1]; break;
      }
    }
    if (!respondAsync && idempotencyKey === null && callbackUrl === null && callbackSecret === null) return NO_INTENT;
    if (idempotencyKey !== null && (idempotencyKey === '' || idempotencyKey.length > 255)) {
      return refused(problemAnswer(problem(ERRORS.badIdempotencyKey, 'Idempotency-Key must be 1 to 255 characters')));
    }
    let callbackEvents: ReadonlySet<WebhookEvent> | null = null;
    if (callbackUrl !== null) {
      const refusal = this.#options.webhooks === null
        ? 'webhooks are disabled: the operator has not set --webhook.allow (and --webhook.secret)'
        : this.#options.webhooks.quickRefusal(callbackUrl);
      const events = parseWebhookEvents(callbackEventsHeader);
      // The problem names the URL but never the secret: problems are answers, and answers may be logged.
      const secretProblem = callbackSecret === null ? null : webhookSecretProblem(callbackSecret);
      const reason = refusal ?? (typeof events === 'string' ? events : null) ?? (secretProblem === null ? null : `x-callback-secret: ${secretProblem}`);
      if (reason !== null) {
        return refused(problemAnswer(problem(ERRORS.webhookRefused, reason, { callbackUrl })));
      }
      callbackEvents = events as ReadonlySet<WebhookEvent>;
    } else if (callbackSecret !== null) {
      // A secret for no webhook is a client's mistake (a misspelt x-callback-url?), not something to ignore.
      return refused(problemAnswer(problem(ERRORS.webhookRefused, 'x-callback-secret without x-callback-url: it signs that webhook\'s deliveries')));
    }
    return { kind: 'intent', respondAsync, idempotencyKey, callbackUrl, callbackEvents, callbackSecret, fingerprint: null };
  }

  /**
   * Before queueing, after the body: resolves the callback's host and checks it against the
   * allowlist; resolves with the 400 to answer when refused, null when allowed.
   */
  async callbackRefusal(intent: SubmitIntent): Promise<Answer | null> {
    if (intent.callbackUrl === null) return null;
    const reason = await this.#options.webhooks!.refusal(intent.callbackUrl);
    return reason === null ? null : problemAnswer(problem(ERRORS.webhookRefused, reason, { callbackUrl: intent.callbackUrl }));
  }

  /**
   * Before queueing: a repeated `Idempotency-Key` is answered with the first operation; one
   * reused for another request is 422. Null: nothing stands in the way, queue the job.
   */
  async idempotentAnswer(intent: SubmitIntent, caller: Caller, request: SubmitRequest, arangoStore: boolean): Promise<Answer | null> {
    if (intent.idempotencyKey === null) return null;
    const { store } = this.#options;
    const first = await store.findIdempotent(caller.username, intent.idempotencyKey, Date.now());
    if (first === undefined) return null;
    if (first.fingerprint !== fingerprintOf(intent, request)) {
      return problemAnswer(problem(ERRORS.idempotencyKeyReused,
        `Idempotency-Key was first used for another request (operation ${first.jobId}); use a new key for a different method, path or body`,
        { operationId: String(first.jobId) }));
    }
    const job = await store.get(first.jobId, caller);
    if (job === undefined) return null; // the first operation is gone (fetched or expired): run anew
    if (!intent.respondAsync && arangoStore) return arangoAnswer(first.jobId);
    return operationAnswer(first.jobId, arangoStore, this.#options.api.describe(job, Date.now()));
  }

  /**
   * Before queueing (write ahead): records the job in the store, with what it needs to run again
   * after a restart; resolves once the record is committed, or rejects (a full disk: 507) and
   * then the job must not run. `shared`: a cluster node without a free worker puts it in the
   * shared queue instead, for whichever node has one (`NewJob.shared`).
   */
  record(
    jobId: number, nowMs: number, intent: SubmitIntent, caller: Caller, request: SubmitRequest, arangoStore: boolean, head: boolean, type: string,
    shared = false,
  ): Promise<void> {
    const { store, webhooks, retentionMs } = this.#options;
    const job: NewJob = {
      jobId,
      owner: caller.username,
      createdAtMs: nowMs,
      retentionMs: arangoStore && !intent.respondAsync ? 0 : retentionMs,
      request: storedRequestOf(request),
      keepNoBody: head,
      idempotency: intent.idempotencyKey === null
        ? null
        : { key: intent.idempotencyKey, fingerprint: fingerprintOf(intent, request), expiresAtMs: nowMs + retentionMs },
      webhook: intent.callbackUrl === null ? null : webhookRegistration(intent),
      type,
    };
    if (shared) job.shared = true;
    // A shared job's webhook is registered by the node that takes it from the queue, which delivers its events.
    if (job.webhook !== null && !shared) webhooks!.register(jobId, job.webhook);
    return store.add(job);
  }

  /** After the job was recorded and queued: the 202 to answer. */
  async accepted(jobId: number, nowMs: number, intent: SubmitIntent, caller: Caller, arangoStore: boolean, type: string): Promise<Answer> {
    if (!intent.respondAsync) return arangoAnswer(jobId);
    const view = (await this.#options.store.get(jobId, caller)) ?? pendingView(jobId, caller.username, nowMs, type);
    return operationAnswer(jobId, arangoStore, this.#options.api.describe(view, Date.now()));
  }
}

const CALLBACK_SECRET_HEADER = 'x-callback-secret';
/** Headers never written to a store: credentials. A job run again after a restart has `ctx.user`, not these. */
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', CALLBACK_SECRET_HEADER]);
const CALLBACK_SECRET_ONLY: ReadonlySet<string> = new Set([CALLBACK_SECRET_HEADER]);

function webhookRegistration(intent: SubmitIntent): WebhookRegistration {
  const registration: WebhookRegistration = { url: intent.callbackUrl!, events: [...intent.callbackEvents!] };
  if (intent.callbackSecret !== null) registration.secret = intent.callbackSecret;
  return registration;
}

/**
 * The headers a handler is given: without `x-callback-secret`, which is the webhook's and no
 * handler's business (`/_admin/echo` would put it into the result, and so into the status body
 * and the delivery itself).
 */
export function handlerHeaders(intent: SubmitIntent | null, headers: string[]): string[] {
  return intent === null || intent.callbackSecret === null ? headers : withoutHeaders(headers, CALLBACK_SECRET_ONLY);
}

/** A request as a store (or the cluster's shared queue) keeps it: without credentials; the handler gets `ctx.user` instead. */
export function storedRequestOf(request: SubmitRequest): StoredRequest {
  const { method, path, query, body } = request;
  return { method, path, query, headers: withoutHeaders(request.headers, SECRET_HEADERS), body, user: request.user ?? null };
}

function withoutHeaders(headers: string[], names: ReadonlySet<string>): string[] {
  let found = false;
  for (let i = 0; i < headers.length && !found; i += 2) found = names.has(headers[i]);
  if (!found) return headers;
  const kept: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) if (!names.has(headers[i])) kept.push(headers[i], headers[i + 1]);
  return kept;
}

/** What a job just added looks like, should it be gone by the time it is read back. */
function pendingView(jobId: number, owner: string, createdAtMs: number, type: string): JobView {
  return { jobId, owner, state: 'pending', createdAtMs, startedAtMs: 0, finishedAtMs: 0, outcome: null, expiresAtMs: 0, result: null, type, details: null };
}

/** RFC 7240's answer: 202 with the operation, its Location, and (for ArangoDB clients too) its job id. */
function operationAnswer(jobId: number, arangoStore: boolean, description: Record<string, unknown>): Answer {
  const statusUrl = `/_api/operations/${jobId}`;
  const body = { ...description, createdAt: (description.timestamps as { created: string }).created, statusUrl };
  const headers = ['content-type', JSON_TYPE, 'location', statusUrl, 'preference-applied', 'respond-async'];
  if (arangoStore) headers.push('x-arango-async-id', String(jobId));
  return { status: 202, headers, body: JSON.stringify(body) };
}

/** ArangoDB's answer to `x-arango-async: store`: an empty 202 carrying the job id. */
function arangoAnswer(jobId: number): Answer {
  return { status: 202, headers: ['x-arango-async-id', String(jobId)], body: null };
}

function fingerprintOf(intent: SubmitIntent, request: SubmitRequest): string {
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
