import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressThrottleKey, FailureThrottle, userThrottleKey, type FailureThrottleOptions } from './auth-throttle.js';

const OPTIONS: FailureThrottleOptions = {
  maxFailures: 3, windowMs: 60_000, firstBlockMs: 1000, maxBlockMs: 8000, forgetAfterMs: 600_000, capacity: 100,
};

function failTimes(throttle: FailureThrottle, key: string, count: number, nowMs: number): void {
  for (let index = 0; index < count; index++) throttle.recordFailure(key, nowMs);
}

test('a key is blocked for firstBlockMs once it failed maxFailures times within the window', () => {
  const throttle = new FailureThrottle(OPTIONS);
  failTimes(throttle, 'a', 2, 0);
  assert.equal(throttle.blockedForMs('a', 0), 0);
  throttle.recordFailure('a', 10);
  assert.equal(throttle.blockedForMs('a', 10), 1000);
  assert.equal(throttle.blockedForMs('a', 510), 500);
  assert.equal(throttle.blockedForMs('a', 1010), 0);
  assert.equal(throttle.blockedForMs('b', 10), 0, 'other keys are not blocked');
});

test('failures spread over more than a window do not block', () => {
  const throttle = new FailureThrottle(OPTIONS);
  throttle.recordFailure('a', 0);
  throttle.recordFailure('a', 30_000);
  throttle.recordFailure('a', 61_000);
  throttle.recordFailure('a', 90_000);
  assert.equal(throttle.blockedForMs('a', 90_000), 0);
});

test('each further block of a repeat offender doubles, up to maxBlockMs', () => {
  const throttle = new FailureThrottle(OPTIONS);
  let now = 0;
  const blocks: number[] = [];
  for (let round = 0; round < 6; round++) {
    failTimes(throttle, 'a', 3, now);
    blocks.push(throttle.blockedForMs('a', now));
    now += blocks[blocks.length - 1];
  }
  assert.deepEqual(blocks, [1000, 2000, 4000, 8000, 8000, 8000]);
});

test('a key quiet for forgetAfterMs starts over from the first block', () => {
  const throttle = new FailureThrottle(OPTIONS);
  failTimes(throttle, 'a', 3, 0);
  failTimes(throttle, 'a', 3, 1000);
  assert.equal(throttle.blockedForMs('a', 1000), 2000);
  failTimes(throttle, 'a', 3, 1000 + 600_001);
  assert.equal(throttle.blockedForMs('a', 1000 + 600_001), 1000);
});

test('forget clears a key at once', () => {
  const throttle = new FailureThrottle(OPTIONS);
  failTimes(throttle, 'a', 3, 0);
  throttle.forget('a');
  assert.equal(throttle.blockedForMs('a', 0), 0);
});

test('rotating keys never grows memory past capacity; the least recently failed key goes first', () => {
  const throttle = new FailureThrottle(OPTIONS);
  failTimes(throttle, 'offender', 3, 0);
  for (let index = 0; index < 10_000; index++) {
    throttle.recordFailure(`rotated-${index}`, 1);
    // The offender keeps failing, so it stays among the most recent keys.
    if (index % 50 === 0) throttle.recordFailure('offender', 1);
  }
  assert.equal(throttle.size, OPTIONS.capacity);
  assert.ok(throttle.blockedForMs('offender', 1) > 0, 'a key that keeps failing stays remembered');
});

test('maxFailures 0 turns the throttle off and remembers nothing', () => {
  const throttle = new FailureThrottle({ ...OPTIONS, maxFailures: 0 });
  failTimes(throttle, 'a', 50, 0);
  assert.equal(throttle.blockedForMs('a', 0), 0);
  assert.equal(throttle.size, 0);
});

test('an IPv6 peer is throttled by its /64 prefix, an IPv4 (or IPv4-mapped) peer by its address', () => {
  assert.equal(addressThrottleKey('192.0.2.7'), '192.0.2.7');
  assert.equal(addressThrottleKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(addressThrottleKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressThrottleKey('2001:0DB8:0001:0002:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  assert.equal(addressThrottleKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(addressThrottleKey('::1'), '0:0:0:0::/64');
  assert.equal(addressThrottleKey('fe80::1:2:3:4'), 'fe80:0:0:0::/64');
});

test('a very long user name is throttled by a short digest, so keys stay small', () => {
  assert.equal(userThrottleKey('alice'), 'alice');
  const long = 'x'.repeat(64 * 1024);
  const key = userThrottleKey(long);
  assert.ok(key.length < 64, key);
  assert.equal(userThrottleKey(long), key);
  assert.notEqual(userThrottleKey(`${long}y`), key);
});
