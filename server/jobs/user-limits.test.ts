import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultQueuedPerUser, UserLimits } from './user-limits.js';

const NONE_STORED = (): number => 0;

test('the rate bucket allows a burst of one second\'s worth, then refills at the rate', () => {
  const limits = new UserLimits({ maxQueuedPerUser: 0, maxStoredPerUser: 0, ratePerSecond: 4 });
  for (let index = 0; index < 4; index++) assert.equal(limits.admit('alice', false, NONE_STORED, 1000), null);
  const refusal = limits.admit('alice', false, NONE_STORED, 1000);
  assert.equal(refusal?.retryAfterSeconds, 1);
  assert.equal(limits.admit('bob', false, NONE_STORED, 1000), null, 'each user has a bucket of their own');
  assert.notEqual(limits.admit('alice', false, NONE_STORED, 1100), null, 'a fraction of a token is not enough');
  assert.equal(limits.admit('alice', false, NONE_STORED, 1250), null, 'a quarter second brings one token back');
  assert.notEqual(limits.admit('alice', false, NONE_STORED, 1250), null);
});

test('the queue share counts jobs until they start or end without starting', () => {
  const limits = new UserLimits({ maxQueuedPerUser: 2, maxStoredPerUser: 0, ratePerSecond: 0 });
  limits.submitted(1, 'alice');
  limits.submitted(2, 'alice');
  assert.match(limits.admit('alice', false, NONE_STORED, 0)?.message ?? '', /too many queued jobs/);
  limits.leftQueue(1);
  limits.leftQueue(1); // its final event after it started: counted once
  assert.equal(limits.admit('alice', false, NONE_STORED, 0), null);
  limits.submitted(3, 'alice');
  assert.notEqual(limits.admit('alice', false, NONE_STORED, 0), null);
  limits.leftQueue(2);
  limits.leftQueue(3);
  assert.equal(limits.admit('alice', false, NONE_STORED, 0), null);
});

test('the stored bound applies to stored jobs only', () => {
  const limits = new UserLimits({ maxQueuedPerUser: 0, maxStoredPerUser: 3, ratePerSecond: 0 });
  assert.notEqual(limits.admit('alice', true, () => 3, 0), null);
  assert.equal(limits.admit('alice', false, () => 3, 0), null);
  assert.equal(limits.admit('alice', true, () => 2, 0), null);
});

test('the default queue share is a quarter of the queue with authentication on and none with it off', () => {
  assert.equal(defaultQueuedPerUser(4096, true), 1024);
  assert.equal(defaultQueuedPerUser(3, true), 1);
  assert.equal(defaultQueuedPerUser(4096, false), 0);
});
