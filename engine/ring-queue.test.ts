import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { RECORD_ALIGN_BYTES, RECORD_HEADER_BYTES, RING_HEADER_BYTES, RING_READ_CURSOR, RING_WRITE_CURSOR } from './layout.js';
import { RingQueue } from './ring-queue.js';
import { fillRecord, recordLength, type ProducerData } from './test-fixtures/ring-producer.js';

const PRODUCER = new URL('./test-fixtures/ring-producer.js', import.meta.url);

/** A ring whose cursors start at `startCursor` (8-aligned), as after that many bytes went through. */
function ringAt(capacity: number, startCursor: number): { producer: RingQueue; consumer: RingQueue } {
  const buffer = new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
  const cursors = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
  cursors[RING_WRITE_CURSOR] = startCursor;
  cursors[RING_READ_CURSOR] = startCursor;
  // Each side attaches on its own, as the two threads of a lane do.
  return { producer: new RingQueue(buffer), consumer: new RingQueue(buffer) };
}

function alignedRecordBytes(length: number): number {
  return Math.ceil((length + RECORD_HEADER_BYTES) / RECORD_ALIGN_BYTES) * RECORD_ALIGN_BYTES;
}

/** Payload number `serial` of `length` bytes: distinct contents, so a swap or a duplicate shows. */
function payload(serial: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index++) bytes[index] = (serial * 13 + index * 7 + (serial >>> 8)) & 0xff;
  if (length >= 4) new DataView(bytes.buffer).setUint32(0, serial, true);
  return bytes;
}

type Operation =
  | { kind: 'write'; lengthSeed: number; nearMax: boolean; repeat: number }
  | { kind: 'publish' }
  | { kind: 'read'; count: number }
  | { kind: 'release' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), lengthSeed: fc.nat(), nearMax: fc.boolean(), repeat: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('publish' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('read' as const), count: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const) }) },
);

/** Cursors start anywhere 8-aligned, including just before the int32 wrap. */
const startCursor = fc.oneof(
  fc.constant(0),
  fc.integer({ min: -(2 ** 28), max: 2 ** 28 - 1 }).map((k) => k * 8),
  fc.integer({ min: 1, max: 200 }).map((k) => (2 ** 31 - k * 8) | 0),
);

/**
 * Runs `operations` against one ring and a model of it: committed, published, read and
 * released records. Checks every read against the model, that a write fails exactly when the
 * record does not fit in the space the consumer has released, and finally drains the ring.
 */
function checkAgainstModel(capacity: number, start: number, operations: Operation[]): void {
  const { producer, consumer } = ringAt(capacity, start);
  const max = producer.maxRecordBytes;
  assert.ok(max >= capacity / 2 - RECORD_HEADER_BYTES - RECORD_ALIGN_BYTES);
  const committed: Uint8Array[] = [];
  const published: Uint8Array[] = [];
  let readNotReleased = 0;
  let serial = 0;

  const readOne = (): boolean => {
    const offset = consumer.peek();
    if (published.length === 0) {
      assert.equal(offset, -1, 'an empty ring (as the consumer sees it) peeks -1');
      return false;
    }
    assert.ok(offset >= 0, 'a published record is visible');
    const expected = published.shift()!;
    const length = consumer.recordLength(offset);
    assert.equal(length, expected.length);
    assert.deepEqual(consumer.bytes.subarray(offset, offset + length), expected);
    consumer.advance(offset);
    readNotReleased++;
    return true;
  };

  for (const step of operations) {
    switch (step.kind) {
      case 'write':
        for (let repeat = 0; repeat < step.repeat; repeat++) {
          const length: number = step.nearMax ? max - (step.lengthSeed % 9) : step.lengthSeed % (max + 1);
          const record = payload(serial, length);
          const writeCursor = producer.writeCursor;
          const free = capacity - ((writeCursor - producer.loadReadCursor()) | 0);
          const untilEnd = capacity - (writeCursor & (capacity - 1));
          const needed = alignedRecordBytes(length);
          const required = needed > untilEnd ? needed + untilEnd : needed;
          const everythingReleased = committed.length === 0 && published.length === 0 && readNotReleased === 0;
          const written = producer.tryWrite(record);
          assert.equal(written, free >= required, `tryWrite(${length}) with ${free} free bytes, ${required} required`);
          if (everythingReleased) assert.ok(written, 'a record up to maxRecordBytes always fits in an empty ring');
          if (written) {
            committed.push(record);
            serial++;
          } else {
            assert.equal(producer.writeCursor, writeCursor, 'a refused write changes nothing');
          }
        }
        break;
      case 'publish':
        producer.publish();
        published.push(...committed.splice(0));
        break;
      case 'read':
        for (let count = 0; count < step.count && readOne(); count++);
        break;
      case 'release':
        consumer.release();
        readNotReleased = 0;
        break;
    }
  }
  producer.publish();
  published.push(...committed.splice(0));
  while (readOne());
  consumer.release();
  assert.equal(consumer.peek(), -1);
  assert.ok(consumer.isEmpty());
}

describe('RingQueue, one thread', () => {
  test('records come out as they went in: nothing lost, duplicated or reordered; full refuses, empty peeks -1', () => {
    fc.assert(
      fc.property(fc.constantFrom(64, 128, 256, 1024), startCursor, fc.array(operation, { maxLength: 120 }), checkAgainstModel),
      { numRuns: 400 },
    );
  });

  test('a full ring refuses every write and keeps what it holds', () => {
    const { producer, consumer } = ringAt(64, 0);
    const held: Uint8Array[] = [];
    for (const length of [producer.maxRecordBytes, producer.maxRecordBytes, 9, 0, 0]) {
      const record = payload(held.length, length);
      if (producer.tryWrite(record)) held.push(record);
    }
    assert.equal(producer.writeCursor, 64, 'the ring is full to the byte');
    for (let length = 0; length <= producer.maxRecordBytes; length++) assert.equal(producer.tryWrite(payload(99, length)), false);
    producer.publish();
    for (const expected of held) {
      const offset = consumer.peek();
      assert.deepEqual(consumer.bytes.subarray(offset, offset + consumer.recordLength(offset)), expected);
      consumer.advance(offset);
    }
    assert.equal(consumer.peek(), -1);
    assert.equal(producer.tryWrite(payload(100, 8)), false, 'space comes back only at release()');
    consumer.release();
    assert.ok(producer.tryWrite(payload(100, 8)));
  });

  test('create() refuses a capacity that is not a power of two of at least 64', () => {
    for (const capacity of [0, 32, 100, 1.5, 2 ** 31]) assert.throws(() => RingQueue.create(capacity), TypeError);
    assert.equal(RingQueue.create(64).capacity, 64);
  });
});

/**
 * One ring per producer thread (as the engine has one per lane), one consumer on this thread
 * reading all rings, checking each producer's records arrive complete and in order.
 */
async function runProducers(capacity: number, producerCount: number, countPerProducer: number, seed: number): Promise<void> {
  const rings = Array.from({ length: producerCount }, () => RingQueue.create(capacity));
  const nextSequence = new Array<number>(producerCount).fill(0);
  const failures: Error[] = [];
  const workers = rings.map((ring, producerId) => {
    const data: ProducerData = { ring: ring.buffer, producerId, count: countPerProducer, seed: seed + producerId };
    const worker = new Worker(PRODUCER, { workerData: data });
    worker.on('error', (error) => failures.push(error));
    return worker;
  });
  const exits = workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
  const deadline = Date.now() + 60_000;
  try {
    let remaining = producerCount * countPerProducer;
    while (remaining > 0) {
      let readNow = 0;
      for (let producerId = 0; producerId < producerCount; producerId++) {
        const ring = rings[producerId];
        const expected = new Uint8Array(ring.maxRecordBytes);
        for (let offset = ring.peek(); offset >= 0; offset = ring.peek()) {
          const sequence = nextSequence[producerId];
          const length = ring.recordLength(offset);
          const record = ring.bytes.subarray(offset, offset + length);
          const view = new DataView(record.buffer, record.byteOffset, length);
          assert.equal(view.getUint32(0, true), producerId, 'a record from another ring');
          assert.equal(view.getUint32(4, true), sequence, `producer ${producerId}: record out of order`);
          assert.equal(length, recordLength(producerId, sequence, ring.maxRecordBytes));
          fillRecord(expected.subarray(0, length), producerId, sequence);
          if (Buffer.compare(record, expected.subarray(0, length)) !== 0) assert.fail(`producer ${producerId} record ${sequence}: bytes differ`);
          ring.advance(offset);
          nextSequence[producerId] = sequence + 1;
          readNow++;
          // Hand space back in small batches so producers meet a full ring often.
          if ((readNow & 7) === 0) ring.release();
        }
        ring.release();
      }
      remaining -= readNow;
      if (failures.length > 0) throw failures[0];
      if (Date.now() > deadline) assert.fail(`stalled with ${remaining} records unread: ${nextSequence.join(', ')}`);
      if (readNow === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(exits);
    for (const ring of rings) assert.equal(ring.peek(), -1, 'no record beyond the last');
    assert.deepEqual(nextSequence, new Array(producerCount).fill(countPerProducer));
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

describe('RingQueue, producers in worker threads', () => {
  test('200k records through small rings arrive complete and in order per producer', { timeout: 90_000 }, async () => {
    await runProducers(512, 2, 100_000, 1);
  });

  test('random capacities, producer counts and record counts', { timeout: 90_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(64, 256, 4096),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.nat(),
        runProducers,
      ),
      { numRuns: 6 },
    );
  });
});
