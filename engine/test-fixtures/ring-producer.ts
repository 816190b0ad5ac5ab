/**
 * Worker thread of ring-queue.test.ts: the single producer of one ring. Writes `count` records
 * of varied length (see `recordFor`), publishing after batches of random size, and waits
 * briefly whenever the ring is full.
 */
import { workerData } from 'node:worker_threads';
import { RingQueue } from '../ring-queue.js';

export interface ProducerData {
  ring: SharedArrayBuffer;
  producerId: number;
  count: number;
  seed: number;
}

/** Length of record `sequence` of `producerId`: mostly small, now and then up to the ring's largest. */
export function recordLength(producerId: number, sequence: number, maxRecordBytes: number): number {
  const mix = Math.imul(sequence + 1, 0x9e3779b1) ^ Math.imul(producerId + 1, 0x85ebca6b);
  const bucket = (mix >>> 24) & 0xff;
  if (bucket < 8) return maxRecordBytes - (mix & 7); // near the largest
  if (bucket < 40) return 8 + ((mix >>> 4) % (maxRecordBytes - 8));
  return Math.min(8 + ((mix >>> 4) & 63), maxRecordBytes);
}

/** Fills `target` with record `sequence` of `producerId`: its two ids, then a checkable pattern. */
export function fillRecord(target: Uint8Array, producerId: number, sequence: number): void {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  view.setUint32(0, producerId, true);
  view.setUint32(4, sequence, true);
  for (let index = 8; index < target.byteLength; index++) target[index] = (producerId * 131 + sequence * 7 + index) & 0xff;
}

function produce({ ring: buffer, producerId, count, seed }: ProducerData): void {
  const ring = new RingQueue(buffer);
  const scratch = new Uint8Array(ring.maxRecordBytes);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let random = seed | 1;
  let unpublished = 0;
  let batch = 1;
  for (let sequence = 0; sequence < count; sequence++) {
    const record = scratch.subarray(0, recordLength(producerId, sequence, ring.maxRecordBytes));
    fillRecord(record, producerId, sequence);
    let attempts = 0;
    while (!ring.tryWrite(record)) {
      // Full: publish what is pending (or the consumer could never drain) and let it catch up.
      ring.publish();
      unpublished = 0;
      if (++attempts > 64) Atomics.wait(pause, 0, 0, 0.05);
    }
    if (++unpublished >= batch) {
      ring.publish();
      unpublished = 0;
      random ^= random << 13;
      random ^= random >>> 17;
      random ^= random << 5;
      batch = 1 + ((random >>> 0) % 16);
    }
  }
  ring.publish();
}

if (workerData !== null && typeof workerData === 'object' && 'ring' in workerData) produce(workerData as ProducerData);
