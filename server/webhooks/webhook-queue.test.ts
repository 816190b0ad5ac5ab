import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WebhookQueue, type WebhookQueueLimits } from './webhook-queue.js';

/** A queue of named items that records what it started and dropped, in order. */
function recordingQueue(limits: WebhookQueueLimits): { queue: WebhookQueue<string>; started: string[]; dropped: string[] } {
  const started: string[] = [];
  const dropped: string[] = [];
  const queue = new WebhookQueue<string>(limits, (item) => started.push(item), (item) => dropped.push(item));
  return { queue, started, dropped };
}

/** Items are named `<host>-<n>`; their host is what comes before the dash. */
function hostOf(item: string): string {
  return item.slice(0, item.indexOf('-'));
}

describe('WebhookQueue', () => {
  test('starts at once under the limits; beyond the global limit items wait', () => {
    const { queue, started } = recordingQueue({ maxConcurrent: 2, maxPerHost: 2, maxQueued: 10 });
    for (const item of ['a-1', 'b-1', 'c-1']) queue.push(hostOf(item), item);
    assert.deepEqual(started, ['a-1', 'b-1']);
    assert.equal(queue.inFlight, 2);
    assert.equal(queue.waiting, 1);
    queue.release('a');
    assert.deepEqual(started, ['a-1', 'b-1', 'c-1']);
    assert.equal(queue.waiting, 0);
  });

  test('one host gets at most maxPerHost slots; other hosts use the rest at once', () => {
    const { queue, started } = recordingQueue({ maxConcurrent: 4, maxPerHost: 2, maxQueued: 10 });
    for (let n = 1; n <= 5; n++) queue.push('slow', `slow-${n}`);
    assert.deepEqual(started, ['slow-1', 'slow-2']);
    queue.push('fast', 'fast-1');
    queue.push('fast', 'fast-2');
    assert.deepEqual(started, ['slow-1', 'slow-2', 'fast-1', 'fast-2'], 'the slow backlog does not delay another host');
    queue.release('fast');
    assert.equal(started.length, 4, 'a free global slot does not go past the per-host limit');
    queue.release('slow');
    assert.deepEqual(started.slice(4), ['slow-3']);
  });

  test('free slots go round-robin across hosts with waiting items, not first come first served', () => {
    const { queue, started } = recordingQueue({ maxConcurrent: 1, maxPerHost: 1, maxQueued: 100 });
    queue.push('a', 'a-0');
    for (let n = 1; n <= 3; n++) queue.push('a', `a-${n}`);
    queue.push('b', 'b-1');
    queue.push('c', 'c-1');
    queue.push('b', 'b-2');
    for (let release = 0; release < 6; release++) queue.release(hostOf(started[started.length - 1]!));
    // The host whose attempt just ended goes to the back of the line.
    assert.deepEqual(started, ['a-0', 'b-1', 'c-1', 'a-1', 'b-2', 'a-2', 'a-3']);
    assert.equal(queue.inFlight, 1);
    assert.equal(queue.waiting, 0);
  });

  test('past maxQueued the oldest waiting item of the host with the longest line is dropped', () => {
    const { queue, started, dropped } = recordingQueue({ maxConcurrent: 1, maxPerHost: 1, maxQueued: 3 });
    queue.push('busy', 'busy-0');
    queue.push('busy', 'busy-1');
    queue.push('busy', 'busy-2');
    queue.push('quiet', 'quiet-1');
    assert.deepEqual(dropped, []);
    queue.push('quiet', 'quiet-2');
    assert.deepEqual(dropped, ['busy-1'], 'the flooding host pays, not the quiet one');
    assert.equal(queue.waiting, 3);
    for (let release = 0; release < 3; release++) queue.release(hostOf(started[started.length - 1]!));
    assert.deepEqual(started, ['busy-0', 'quiet-1', 'busy-2', 'quiet-2']);
  });

  test('a withdrawn item never starts and frees its place in the queue', () => {
    const { queue, started, dropped } = recordingQueue({ maxConcurrent: 1, maxPerHost: 1, maxQueued: 1 });
    queue.push('a', 'a-1');
    queue.push('a', 'a-2');
    assert.equal(queue.withdraw('a', 'a-2'), true);
    assert.equal(queue.withdraw('a', 'a-2'), false);
    assert.equal(queue.withdraw('elsewhere', 'x-1'), false);
    queue.push('a', 'a-3');
    assert.deepEqual(dropped, []);
    queue.release('a');
    assert.deepEqual(started, ['a-1', 'a-3']);
  });

  test('clear empties the queue; items in flight still release', () => {
    const { queue, started } = recordingQueue({ maxConcurrent: 1, maxPerHost: 1, maxQueued: 10 });
    queue.push('a', 'a-1');
    queue.push('b', 'b-1');
    queue.clear();
    assert.equal(queue.waiting, 0);
    queue.release('a');
    assert.deepEqual(started, ['a-1']);
    assert.equal(queue.inFlight, 0);
  });
});
