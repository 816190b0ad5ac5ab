/** Metrics (prom-client, read from typed arrays at scrape time) and the pino logger. */
export { createLogger } from './logger.js';
export { MODE_BLOCKING, MODE_FIRE, MODE_INLINE, MODE_STORE, ServerMetrics } from './metrics.js';
export { JobLog } from './job-log.js';
