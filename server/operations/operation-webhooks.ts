import type { DeliveryAttempt, WebhookDispatcher, WebhookEvent } from '../webhooks/index.js';
import type { WebhookRegistration } from '../jobs/index.js';
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
  deliveries: DeliveryAttempt[];
  lastProgressAtMs: number;
}

export interface WebhookView {
  url: string;
  events: WebhookEvent[];
  deliveries: DeliveryAttempt[];
}

/** Webhooks registered with `x-callback-url` on submit: which events go where, and every attempt. */
export class OperationWebhooks implements OperationNotifier {
  readonly #dispatcher: WebhookDispatcher;
  readonly #registrations = new Map<number, Registration>();

  constructor(dispatcher: WebhookDispatcher) {
    this.#dispatcher = dispatcher;
  }

  /** Syntax check of a submit's `x-callback-url`, and what the allowlist refuses without DNS: a message for a 400, or null. */
  quickRefusal(url: string): string | null {
    return this.#dispatcher.checkTarget(url);
  }

  /** The full allowlist check, resolving the host: a message for a 400, or null. */
  refusal(url: string): Promise<string | null> {
    return this.#dispatcher.refusal(url);
  }

  register(jobId: number, url: string, events: ReadonlySet<WebhookEvent>): void {
    this.#registrations.set(jobId, { url, events, deliveries: [], lastProgressAtMs: 0 });
    if (this.#registrations.size > MAX_REGISTRATIONS) this.forget(this.#registrations.keys().next().value!);
  }

  /** A registration the durable store kept across a restart. */
  restore(jobId: number, registration: WebhookRegistration): void {
    this.register(jobId, registration.url, new Set(registration.events as WebhookEvent[]));
  }

  wants(jobId: number): boolean {
    return this.#registrations.has(jobId);
  }

  notify(jobId: number, event: OperationEvent): void {
    const registration = this.#registrations.get(jobId);
    if (registration === undefined) return;
    const webhookEvent: WebhookEvent = event.event === 'status-update' ? 'PROGRESS' : (event.status as WebhookEvent);
    if (!registration.events.has(webhookEvent)) return;
    if (webhookEvent === 'PROGRESS') {
      const now = Date.now();
      if (now - registration.lastProgressAtMs < PROGRESS_INTERVAL_MS) return;
      registration.lastProgressAtMs = now;
    }
    const payload = { status: event.status, progress: event.progress, ...event.data };
    this.#dispatcher.deliver({ url: registration.url, operationId: event.operationId }, webhookEvent, payload, (attempt) => {
      registration.deliveries.push(attempt);
      if (registration.deliveries.length > KEPT_ATTEMPTS) registration.deliveries.shift();
    });
  }

  /** Ends the registration: waiting deliveries and pending retries are dropped; an attempt in flight may finish. */
  forget(jobId: number): void {
    if (this.#registrations.delete(jobId)) this.#dispatcher.cancel(String(jobId));
  }

  forgetAll(): void {
    for (const jobId of this.#registrations.keys()) this.#dispatcher.cancel(String(jobId));
    this.#registrations.clear();
  }

  view(jobId: number): WebhookView | undefined {
    const registration = this.#registrations.get(jobId);
    if (registration === undefined) return undefined;
    return { url: registration.url, events: [...registration.events], deliveries: registration.deliveries.slice() };
  }

  close(): void {
    this.#dispatcher.close();
  }
}
