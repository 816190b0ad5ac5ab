/** The durable job store (`--database.directory`) on LMDB, and the errors it refuses or fails with. */
export { LmdbJobStore, type LmdbJobStoreOptions } from './lmdb-job-store.js';
export { StoreCorruptError, StoreError, StoreFormatError, StoreFullError, StoreLockedError, StoreWriteError } from './store-errors.js';
