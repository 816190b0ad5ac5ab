import { pino, type Logger } from 'pino';
import type { LogLevel } from '../options.js';

/**
 * Structured logs (pino, JSON lines on stdout): one line per start, stop, worker replacement
 * and error; nothing per request at the default level, so logging costs the hot path nothing.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'arango-async-jobs' } });
}
