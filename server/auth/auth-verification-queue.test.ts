import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerificationQueue } from './auth-verification-queue.js';

interface Gate {
  promise: Promise<string>;
  open(value: string): void;
}

function gate(): Gate {
  let open!: (value: string) => void;
  const promise = new Promise<string>((resolve) => { open = resolve; });
  return { promise, open };
}

test('at most maxRunning tasks run at once; the rest wait and start in arrival order', async () => {
  const queue = new VerificationQueue(2, 10);
  const gates = [gate(), gate(), gate(), gate()];
  const started: number[] = [];
  const results = gates.map((g, index) => queue.run(() => { started.push(index); return g.promise; }));
  await Promise.resolve();
  assert.deepEqual(started, [0, 1]);
  assert.equal(queue.running, 2);
  assert.equal(queue.waiting, 2);
  gates[1].open('one');
  assert.equal(await results[1], 'one');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, [0, 1, 2]);
  assert.equal(queue.running, 2);
  gates[0].open('zero');
  gates[2].open('two');
  gates[3].open('three');
  assert.deepEqual(await Promise.all(results), ['zero', 'one', 'two', 'three']);
  assert.deepEqual(started, [0, 1, 2, 3]);
  assert.equal(queue.running, 0);
  assert.equal(queue.waiting, 0);
});

test('a full line refuses at once and never runs the task', async () => {
  const queue = new VerificationQueue(1, 1);
  const first = gate();
  const second = gate();
  const running = queue.run(() => first.promise);
  const waiting = queue.run(() => second.promise);
  let refusedRan = false;
  assert.equal(queue.run(async () => { refusedRan = true; return 'never'; }), undefined);
  first.open('a');
  second.open('b');
  assert.deepEqual(await Promise.all([running, waiting]), ['a', 'b']);
  assert.equal(refusedRan, false);
});

test('a task that fails frees its slot and rejects its caller', async () => {
  const queue = new VerificationQueue(1, 1);
  const failing = queue.run(() => Promise.reject(new Error('scrypt failed')));
  const next = queue.run(async () => 'next');
  await assert.rejects(failing!, /scrypt failed/);
  assert.equal(await next, 'next');
  assert.equal(queue.running, 0);
});
