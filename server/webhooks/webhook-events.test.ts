import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_WEBHOOK_EVENTS, parseWebhookEvents } from './webhook-events.js';

describe('x-callback-events', () => {
  test('absent means the final events', () => {
    assert.equal(parseWebhookEvents(undefined), DEFAULT_WEBHOOK_EVENTS);
  });

  test('is a comma-separated, case-insensitive list', () => {
    assert.deepEqual(parseWebhookEvents(' completed, PROGRESS ,'), new Set(['COMPLETED', 'PROGRESS']));
  });

  test('an unknown or missing event is a message for a 400', () => {
    assert.match(parseWebhookEvents('COMPLETED,DONE') as string, /unknown event "DONE"/);
    assert.equal(parseWebhookEvents(' , '), 'x-callback-events names no event');
  });
});
