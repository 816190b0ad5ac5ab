/** The engine's public surface: everything outside engine/ imports from here. */
export { Engine, type EngineOptions, type EngineStats, type WorkerReplacedEvent } from './engine.js';
export { RouteTable, type RouteMatch } from './route-table.js';
export { lineChars, MAX_LOG_CHARS, MAX_LOG_LINES } from './job-report.js';
export { listStartLogs, readStartLogs, StartLog, START_LOG_RECORD_BYTES, type StartLogFile } from './start-log.js';
export {
  EngineError, QueueFullError, EngineClosedError, JobTerminatedError, EngineOptionsError, JOB_FAILURE,
} from './errors.js';
export type {
  SubmitRequest, JobRequest, JobResponse, JobResult, JobFailure, FailureDetails, JobProgress, JobContext, JobUser, Handler,
  RouteDefinition, JobEventKind, JobEventListener, JobEventData, JobWarning, JobLogLine, JobLogBatch, PhaseProgress,
  ReportedProgress, RetryNotice, RetryPolicy,
} from './types.js';
