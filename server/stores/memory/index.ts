/** The in-memory job store (the default): a struct-of-arrays table with its index, lists and body arena. */
export { MemoryJobTable } from './memory-job-table.js';
export type { JobTable } from './job-table.js';
export { MemoryJobStore } from './memory-job-store.js';
export { IdempotencyKeys, idempotencyRecordKey, type IdempotentJob } from './idempotency-keys.js';
// For the other stores, which keep a MemoryJobTable as their index.
export { summaryOf } from './job-summary.js';
