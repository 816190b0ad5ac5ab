/**
 * Every SharedArrayBuffer layout of the engine, in one place.
 *
 * Ring buffer (one per direction per worker, single producer, single consumer):
 *
 * ```
 *  Int32 words (header, RING_HEADER_BYTES)                     data (capacity bytes, power of two)
 *  ┌──────────────┬─────────┬──────────────┬─────────┐  ┌──────────────────────────────────────────┐
 *  │ WRITE_CURSOR │ padding │ READ_CURSOR  │ padding │  │ [len:i32][payload][pad to 8] [len] ...   │
 *  └──────────────┴─────────┴──────────────┴─────────┘  └──────────────────────────────────────────┘
 *    producer owns            consumer owns               len = RECORD_WRAP: skip to offset 0
 * ```
 * Cursors count bytes since creation and wrap as int32; `cursor & mask` is the offset. They sit
 * on separate cache lines so producer and consumer do not bounce one line between cores.
 *
 * Doorbell (one per consumer: each worker has one, the main thread has one for all workers):
 * `SEQUENCE` is bumped by every producer publish; `SLEEPING` is 1 while the consumer is parked
 * on `Atomics.waitAsync(SEQUENCE)`, so producers only pay for `Atomics.notify` when needed.
 * A worker's doorbell also carries `CANCEL_GENERATION`, bumped when the main thread flips the
 * abort slot of a job on that worker, and `RESPONSE_RING_FULL`, set by a worker that could not
 * publish a result so the main thread rings it back once it has drained.
 *
 * Abort slots (one Int32 per in-flight job, indexed by the job's slot): ABORT_NONE, or why the
 * job must stop. The main thread stores, the worker loads; no message travels.
 */

export const CACHE_LINE_BYTES = 64;
export const RING_HEADER_BYTES = 2 * CACHE_LINE_BYTES;
/** Int32 index of the producer's cursor in a ring header. */
export const RING_WRITE_CURSOR = 0;
/** Int32 index of the consumer's cursor in a ring header (next cache line). */
export const RING_READ_CURSOR = CACHE_LINE_BYTES / 4;
/** Bytes of the length prefix of each record. */
export const RECORD_HEADER_BYTES = 4;
/** Records start on 8-byte boundaries so a length prefix never straddles the end of the data. */
export const RECORD_ALIGN_BYTES = 8;
/** Length value that means "the rest of the data area is padding; continue at offset 0". */
export const RECORD_WRAP = -1;

export const DOORBELL_BYTES = CACHE_LINE_BYTES;
export const DOORBELL_SEQUENCE = 0;
export const DOORBELL_SLEEPING = 1;
export const DOORBELL_CANCEL_GENERATION = 2;
export const DOORBELL_RESPONSE_RING_FULL = 3;
export const DOORBELL_SHUTDOWN = 4;

export const ABORT_NONE = 0;
export const ABORT_CANCELLED = 1;
export const ABORT_TIMED_OUT = 2;
export const ABORT_SHUTDOWN = 3;
