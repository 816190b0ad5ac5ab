import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobSlots } from './job-slots.js';

test('find returns the slot holding a job, wherever it was handed out, and -1 once it is released or never held', () => {
  const slots = new JobSlots(64);
  const held = new Map<number, number>();
  for (let jobId = 1; jobId <= 40; jobId++) {
    const slot = slots.acquire();
    slots.jobId[slot] = jobId;
    held.set(jobId, slot);
  }
  // Release every other one, so that the free list hands out slots in a mixed order.
  for (let jobId = 2; jobId <= 40; jobId += 2) {
    slots.release(held.get(jobId)!);
    held.delete(jobId);
  }
  for (let jobId = 41; jobId <= 60; jobId++) {
    const slot = slots.acquire();
    slots.jobId[slot] = jobId;
    held.set(jobId, slot);
  }
  for (const [jobId, slot] of held) assert.equal(slots.find(jobId), slot, `job ${jobId}`);
  for (const jobId of [2, 40, 61, 1000]) assert.equal(slots.find(jobId), -1, `job ${jobId} is not held`);
  assert.equal(slots.find(0), -1, 'a free slot holds no job');
  assert.equal(slots.usedCount, held.size);
});

test('find reaches the last slot of a full table', () => {
  const slots = new JobSlots(8);
  for (let jobId = 1; jobId <= 8; jobId++) slots.jobId[slots.acquire()] = jobId;
  assert.equal(slots.acquire(), -1);
  for (let jobId = 1; jobId <= 8; jobId++) assert.notEqual(slots.find(jobId), -1);
});
