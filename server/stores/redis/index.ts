/** The cluster's job store: every job in one Redis, changed by Lua scripts (see redis-scripts.ts for the keys). */
export { RedisJobStore, type ClaimedJob, type QueueEntry, type RedisJobStoreOptions, type RemoteCancel, type WatchPlace } from './redis-job-store.js';
export { RedisConnection, RedisUnavailableError, type Reply } from './redis-connection.js';
export { BATCH_SCRIPT, SCRIPTS } from './redis-scripts.js';
