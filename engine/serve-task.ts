import type { MessagePort } from 'node:worker_threads';

/**
 * What the main thread hands a worker as its one long-lived Piscina task: the shared memory
 * of its lane and how to load the handlers. Structured-cloned once per worker start.
 */
export interface ServeTask {
  laneIndex: number;
  requestRing: SharedArrayBuffer;
  responseRing: SharedArrayBuffer;
  workerDoorbell: SharedArrayBuffer;
  mainDoorbell: SharedArrayBuffer;
  abortSlots: SharedArrayBuffer;
  /** Carries spilled envelopes (larger than half a ring) in both directions. */
  port: MessagePort;
  handlerModules: string[];
  concurrency: number;
  progressIntervalMs: number;
  /** `EngineOptions.startLogDirectory`, or null. */
  startLogDirectory: string | null;
}
