import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialCache } from './auth-cache.js';
import type { Caller } from './caller.js';

const ALICE: Caller = Object.freeze({ username: 'alice', superuser: false });
const BOB: Caller = Object.freeze({ username: 'bob', superuser: false });

test('a cached header names its caller until it expires', () => {
  const cache = new CredentialCache(10, 4);
  cache.set('Basic a', ALICE, Infinity);
  cache.set('bearer t', BOB, 1000);
  assert.equal(cache.get('Basic a', 0), ALICE);
  assert.equal(cache.get('bearer t', 999), BOB);
  assert.equal(cache.get('bearer t', 1000), undefined);
  assert.equal(cache.size, 1, 'the expired entry is dropped');
});

test("one user's many headers push out only that user's older entries", () => {
  const cache = new CredentialCache(10, 3);
  cache.set('Basic alice', ALICE, Infinity);
  for (let index = 0; index < 1000; index++) cache.set(`bearer bob-${index}`, BOB, Infinity);
  assert.equal(cache.get('Basic alice', 0), ALICE);
  assert.equal(cache.size, 4);
  assert.equal(cache.get('bearer bob-999', 0), BOB);
  assert.equal(cache.get('bearer bob-996', 0), undefined);
});

test('past the total capacity the oldest entry goes', () => {
  const cache = new CredentialCache(3, 3);
  const users = ['u1', 'u2', 'u3', 'u4'].map((username): Caller => Object.freeze({ username, superuser: false }));
  for (const user of users) cache.set(`Basic ${user.username}`, user, Infinity);
  assert.equal(cache.size, 3);
  assert.equal(cache.get('Basic u1', 0), undefined);
  assert.equal(cache.get('Basic u4', 0), users[3]);
});
