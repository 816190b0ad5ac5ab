import { webhookSigningKey, type DeliveryAttempt, type WebhookDispatcher, type WebhookEvent, type WebhookPayload, type WebhookSigningKey } from '../webhooks/index.js';
import { randomUUID } from 'node:crypto';
import type { JobStore, PendingWebhookEvent, WebhookRegistration } from '../jobs/index.js';
import type { OperationEvent } from './operation-event.js';
import type { OperationNotifier } from './operation-tracker.js';

/** At most this often a PROGRESS webhook per operation: a handler reporting a million times must not make a million calls. */
const PROGRESS_INTERVAL_MS = 1000;
/** Attempts kept per operation for its status body. */
const KEPT_ATTEMPTS = 50;
/**
 * Operations whose webhook registration (and delivery log) is remembered at most. Registrations
 * end with their job (fetch, delete, expiry); this bound only caps a table that keeps millions
 * of unfetched jobs without retention.
 */
const MAX_REGISTRATIONS = 100_000;

interface Registration {
  url: string;
  events: ReadonlySet<WebhookEvent>;
  /** From the webhook's own secret (`x-callback-secret`); undefined: the server's signs. */
  key: WebhookSigningKey | undefined;
  deliveries: DeliveryAttempt[];
  lastProgressAtMs: number;
  /** Store ids of this job's deliveries not yet ended (they resume after a restart). */
  pendingEvents: Set<number> | null;
}

/** What a pending delivery keeps in the store: enough to send it again, under the same delivery id. */
interface StoredDelivery {
  deliveryId: string;
  payload: WebhookPayload;
}

/** A final attempt that ends the delivery for good; one cut off by shutdown resumes after the restart. */
function endsDelivery(attempt: DeliveryAttempt): boolean {
  return attempt.nextAttemptAt === undefined && attempt.errorCode !== 'ERR_WEBHOOK_CLOSED';
}

/** The `webhook` of a 202 and a status body; never the secret. */
export interface WebhookView {
  /** As the seed's 202 says it: the callback was accepted and will be called. */
  registered: true;
  url: string;
  events: WebhookEvent[];
  deliveries: DeliveryAttempt[];
}

/** Webhooks registered with `x-callback-url` on submit: which events go where, and every attempt. */
export class OperationWebhooks implements OperationNotifier {
  readonly #dispatcher: WebhookDispatcher;
  readonly #registrations = new Map<number, Registration>();
  #store: JobStore | null = null;
  /** Ids of pending deliveries in the store: increasing across restarts, as job ids are. */
  #lastEventId = Date.now() * 1000;

  constructor(dispatcher: WebhookDispatcher) {
    this.#dispatcher = dispatcher;
  }

  /** Keeps undelivered events in the store, so that a durable server resumes them after a restart. */
  persistIn(store: JobStore, logError: (error: Error) => void): void {
    this.#store = store;
    this.#logError = logError;
  }

  #logError: (error: Error) => void = () => {};

  /** Sends again a delivery the last run did not finish (its registration was restored first). */
  resume(event: PendingWebhookEvent): void {
    if (event.eventId > this.#lastEventId) this.#lastEventId = event.eventId;
    const registration = this.#registrations.get(event.jobId);
    const stored = event.payload as StoredDelivery;
    if (registration === undefined) {
      this.#store?.webhookEventDone(event.eventId).catch(this.#logError);
      return;
    }
    this.#send(event.jobId, registration, event.event as WebhookEvent, stored.payload, event.eventId, stored.deliveryId);
  }

  /** Syntax check of a submit's `x-callback-url`, and what the allowlist refuses without DNS: a message for a 400, or null. */
  quickRefusal(url: string): string | null {
    return this.#dispatcher.checkTarget(url);
  }

  /** The full allowlist check, resolving the host: a message for a 400, or null. */
  refusal(url: string): Promise<string | null> {
    return this.#dispatcher.refusal(url);
  }

  /** A submit's webhook (its secret checked there), or one the durable store kept across a restart. */
  register(jobId: number, registration: WebhookRegistration): void {
    this.#registrations.set(jobId, {
      url: registration.url,
      events: new Set(registration.events as WebhookEvent[]),
      key: registration.secret === undefined ? undefined : webhookSigningKey(registration.secret),
      deliveries: [],
      lastProgressAtMs: 0,
      pendingEvents: null,
    });
    if (this.#registrations.size > MAX_REGISTRATIONS) this.forget(this.#registrations.keys().next().value!);
  }

  wants(jobId: number): boolean {
    return this.#registrations.has(jobId);
  }

  notify(jobId: number, event: OperationEvent): void {
    const registration = this.#registrations.get(jobId);
    if (registration === undefined) return;
    if (event.event === 'log') return; // logs are read from the logs resource or the streams
    const webhookEvent: WebhookEvent = event.event === 'status-update' ? 'PROGRESS' : event.event === 'retrying' ? 'RETRYING' : (event.status as WebhookEvent);
    const wanted = registration.events.has(webhookEvent) || (webhookEvent === 'COMPLETED_WITH_ERRORS' && registration.events.has('COMPLETED'));
    if (!wanted) return;
    if (webhookEvent === 'PROGRESS') {
      const now = Date.now();
      if (now - registration.lastProgressAtMs < PROGRESS_INTERVAL_MS) return;
      registration.lastProgressAtMs = now;
    }
    const payload = { status: event.status, progress: event.progress, ...event.data };
    if (this.#store === null || webhookEvent === 'PROGRESS' || webhookEvent === 'RETRYING') return this.#send(jobId, registration, webhookEvent, payload, 0, randomUUID());
    // Final events must arrive: kept in the store until delivered (or given up), so they resume after a restart.
    const eventId = ++this.#lastEventId;
    const deliveryId = randomUUID();
    const stored: StoredDelivery = { deliveryId, payload };
    this.#store.addWebhookEvent({ eventId, jobId, url: registration.url, event: webhookEvent, payload: stored }).catch(this.#logError);
    this.#send(jobId, registration, webhookEvent, payload, eventId, deliveryId);
  }

  /** `eventId` 0: a delivery not kept in the store (progress, or a memory store). */
  #send(jobId: number, registration: Registration, event: WebhookEvent, payload: WebhookPayload, eventId: number, deliveryId: string): void {
    if (eventId !== 0) (registration.pendingEvents ??= new Set()).add(eventId);
    this.#dispatcher.deliver({ url: registration.url, operationId: String(jobId), key: registration.key }, event, payload, (attempt) => {
      registration.deliveries.push(attempt);
      if (registration.deliveries.length > KEPT_ATTEMPTS) registration.deliveries.shift();
      // A cluster's store keeps them with the job, so that every node's status shows them.
      this.#store?.recordWebhookDeliveries?.(jobId, registration.deliveries).catch(this.#logError);
      if (eventId !== 0 && endsDelivery(attempt) && registration.pendingEvents?.delete(eventId)) {
        this.#store?.webhookEventDone(eventId).catch(this.#logError);
      }
    }, deliveryId);
  }

  /** Ends the registration: waiting deliveries and pending retries are dropped; an attempt in flight may finish. */
  forget(jobId: number): void {
    const registration = this.#registrations.get(jobId);
    if (registration === undefined) return;
    this.#registrations.delete(jobId);
    this.#dispatcher.cancel(String(jobId));
    this.#endPending(registration);
  }

  forgetAll(): void {
    for (const [jobId, registration] of this.#registrations) {
      this.#dispatcher.cancel(String(jobId));
      this.#endPending(registration);
    }
    this.#registrations.clear();
  }

  #endPending(registration: Registration): void {
    if (registration.pendingEvents === null || this.#store === null) return;
    for (const eventId of registration.pendingEvents) this.#store.webhookEventDone(eventId).catch(this.#logError);
    registration.pendingEvents = null;
  }

  view(jobId: number): WebhookView | undefined {
    const registration = this.#registrations.get(jobId);
    if (registration === undefined) return undefined;
    return { registered: true, url: registration.url, events: [...registration.events], deliveries: registration.deliveries.slice() };
  }

  close(): void {
    this.#dispatcher.close();
  }
}
