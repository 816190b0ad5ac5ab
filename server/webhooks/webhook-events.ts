/** Operation events a webhook can subscribe to (`x-callback-events`). */
export const WEBHOOK_EVENTS = ['COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED', 'CANCELLED', 'PROGRESS', 'RETRYING'] as const;

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/**
 * Events delivered when `x-callback-events` is absent: the final ones, and each retry of a
 * failed attempt. PROGRESS is opt-in because a handler may report progress far more often than
 * a receiver wants POSTs. A webhook that asked for COMPLETED also hears COMPLETED_WITH_ERRORS.
 */
export const DEFAULT_WEBHOOK_EVENTS: ReadonlySet<WebhookEvent> = new Set(['COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED', 'CANCELLED', 'RETRYING']);

/**
 * Parses an `x-callback-events` header (`COMPLETED,FAILED`, case-insensitive, blanks ignored).
 * Returns the events, or a message for a 400 when the header names an unknown event or none.
 */
export function parseWebhookEvents(header: string | undefined): ReadonlySet<WebhookEvent> | string {
  if (header === undefined) return DEFAULT_WEBHOOK_EVENTS;
  const events = new Set<WebhookEvent>();
  for (const item of header.split(',')) {
    const name = item.trim().toUpperCase();
    if (name === '') continue;
    if (!isWebhookEvent(name)) return `x-callback-events: unknown event "${item.trim()}" (expected ${WEBHOOK_EVENTS.join(', ')})`;
    events.add(name);
  }
  if (events.size === 0) return 'x-callback-events names no event';
  return events;
}

function isWebhookEvent(name: string): name is WebhookEvent {
  return (WEBHOOK_EVENTS as readonly string[]).includes(name);
}
