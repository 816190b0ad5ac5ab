/**
 * Errors the engine throws or reports. Callers branch on `code`, never on the message; the
 * server maps codes to HTTP statuses and ArangoDB error numbers in one table of its own.
 */
export class EngineError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Too many jobs are waiting to start; nothing was queued. */
export class QueueFullError extends EngineError {
  constructor(limit: number) {
    super('ERR_QUEUE_FULL', `the engine's queue is full (${limit} jobs waiting)`);
  }
}

/** The engine is shutting down and accepts no new jobs. */
export class EngineClosedError extends EngineError {
  constructor() {
    super('ERR_ENGINE_CLOSED', 'the engine is shutting down');
  }
}

/** Thrown inside a handler by `ctx.checkpoint()` (and friends) once its job was cancelled. */
export class JobTerminatedError extends EngineError {
  readonly reason: 'cancelled' | 'timed out' | 'shutdown';
  constructor(reason: 'cancelled' | 'timed out' | 'shutdown') {
    super('ERR_JOB_TERMINATED', `job ${reason}`);
    this.reason = reason;
  }
}

/** Options given to the engine are invalid. */
export class EngineOptionsError extends EngineError {
  constructor(message: string) {
    super('ERR_ENGINE_OPTIONS', message);
  }
}

/** Failure codes carried by a job's `failed` event. */
export const JOB_FAILURE = {
  /** The handler threw; the error's own fields travel as `JobFailure.details`. */
  handlerError: 'ERR_HANDLER',
  /** The worker running the job died or was terminated because of another job. */
  workerTerminated: 'ERR_WORKER_TERMINATED',
  /** The handler returned something that is not a response. */
  badResponse: 'ERR_BAD_RESPONSE',
} as const;
