import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GoneJobs } from './gone-jobs.js';

test('a gone job is remembered with its owner and expiry until newer removals push it out', () => {
  const gone = new GoneJobs(3);
  gone.record(10, 0, 0);
  gone.record(11, 1, 5_000);
  gone.record(12, 0, 0);
  assert.deepEqual([gone.ownerOf(10), gone.ownerOf(11), gone.expiredAtOf(11), gone.expiredAtOf(12)], [0, 1, 5_000, 0]);
  gone.record(13, 2, 0);
  assert.equal(gone.ownerOf(10), -1, 'the oldest is forgotten first');
  assert.equal(gone.ownerOf(13), 2);
  assert.equal(gone.ownerOf(99), -1, 'never removed');
});

test('an id removed twice keeps its newest record when the older place is overwritten', () => {
  const gone = new GoneJobs(2);
  gone.record(7, 0, 0);
  gone.record(7, 1, 9);
  gone.record(8, 0, 0); // overwrites the first record of 7, not the second
  assert.deepEqual([gone.ownerOf(7), gone.expiredAtOf(7)], [1, 9]);
});
