import autocannon from 'autocannon';
import { LatencyHistogram } from './latency-histogram.js';
import { loadPlanFor } from './load-plan.js';
import { SCENARIOS } from './scenarios.js';
import type { OperationKind, ScenarioName } from './scenarios.js';
import { measureServerCpu } from './server-cpu.js';

export interface LoadOptions {
  /** Base URL of the deployment, such as http://127.0.0.1:8529. */
  readonly url: string;
  readonly scenario: ScenarioName;
  /** Concurrent keep-alive connections, each one virtual client doing one operation at a time. */
  readonly connections: number;
  readonly durationSeconds: number;
  /** Seconds before a request counts as timed out. @defaultValue 10 */
  readonly timeoutSeconds?: number;
  /** The server's process id; when set, its CPU time during the run is measured (Linux /proc). */
  readonly serverPid?: number;
}

export interface LatencySummary {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface ServerCpuCost {
  readonly cpuMicros: number;
  /** Server CPU per completed operation: the comparison that holds when the load generator saturates first. */
  readonly microsPerOperation: number;
  readonly microsPerRequest: number;
  /** Average cores busy during the run. */
  readonly cores: number;
}

export interface LoadResult {
  readonly scenario: ScenarioName;
  readonly url: string;
  readonly connections: number;
  /** Measured length of the run, in seconds. */
  readonly durationSeconds: number;
  /** HTTP responses received. */
  readonly requests: number;
  readonly requestsPerSecond: number;
  /** Operations that ended as expected (a version answer, a 202, a fetched result, a 410 after cancel). */
  readonly operations: number;
  readonly operationsPerSecond: number;
  readonly operationsByKind: Readonly<Record<OperationKind, number>>;
  readonly failedOperations: number;
  /** Unexpected answers, keyed by operation, step and status. */
  readonly failures: Readonly<Record<string, number>>;
  /** Started but neither completed nor failed: in flight at the end, or cut off by a timeout. */
  readonly unfinishedOperations: number;
  readonly requestLatency: LatencySummary;
  /** From an operation's first request to its last answer, polls included. */
  readonly operationLatency: LatencySummary;
  /** Connection errors, timeouts included. */
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  /** Present when LoadOptions.serverPid was given. */
  readonly serverCpu: ServerCpuCost | undefined;
}

function checkOptions(options: LoadOptions): void {
  const url = new URL(options.url);
  if (url.protocol !== 'http:') throw new TypeError(`url must be http://, got ${options.url}`);
  if (!Object.hasOwn(SCENARIOS, options.scenario)) throw new TypeError(`unknown scenario ${options.scenario}`);
  if (!Number.isInteger(options.connections) || options.connections < 1) {
    throw new TypeError(`connections must be a positive integer, got ${options.connections}`);
  }
  if (!(options.durationSeconds > 0)) throw new TypeError(`durationSeconds must be positive, got ${options.durationSeconds}`);
}

function summarise(histogram: LatencyHistogram): LatencySummary {
  return {
    p50Ms: histogram.percentileMicros(0.5) / 1000,
    p99Ms: histogram.percentileMicros(0.99) / 1000,
    maxMs: histogram.maxMicros / 1000,
  };
}

/**
 * Load-tests a running deployment with one scenario for a fixed time and
 * reports throughput as requests and as completed operations, latency,
 * errors and status codes, and optionally the server's CPU cost.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  checkOptions(options);
  const plan = loadPlanFor(options.scenario);
  const requestLatency = new LatencyHistogram();
  const cpuMeter = options.serverPid === undefined ? undefined : measureServerCpu(options.serverPid);
  const cannonResult = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSeconds,
        timeout: options.timeoutSeconds ?? 10,
        requests: plan.requests(),
        initialContext: plan.initialContext(),
      },
      (error, result) => (error === null ? resolve(result) : reject(error)),
    );
    instance.on('response', (_client, _statusCode, _responseBytes, responseTimeMs) => {
      requestLatency.record(responseTimeMs * 1000);
    });
  });
  const cpuUsage = cpuMeter?.stop();

  const tally = plan.tally(cannonResult, requestLatency);
  const operations = Object.values(tally.completedByKind).reduce((sum, count) => sum + count, 0);
  const failedOperations = Object.values(tally.failures).reduce((sum, count) => sum + count, 0);
  const requests = cannonResult.requests.total;
  const durationSeconds = cannonResult.duration;
  return {
    scenario: options.scenario,
    url: options.url,
    connections: options.connections,
    durationSeconds,
    requests,
    requestsPerSecond: requests / durationSeconds,
    operations,
    operationsPerSecond: operations / durationSeconds,
    operationsByKind: tally.completedByKind,
    failedOperations,
    failures: tally.failures,
    unfinishedOperations: tally.started - operations - failedOperations,
    requestLatency: summarise(requestLatency),
    operationLatency: summarise(tally.latency),
    errors: cannonResult.errors,
    timeouts: cannonResult.timeouts,
    statusCodes: Object.fromEntries(
      Object.entries(cannonResult.statusCodeStats).map(([status, stats]) => [status, stats.count]),
    ),
    serverCpu: cpuUsage === undefined ? undefined : {
      cpuMicros: cpuUsage.cpuMicros,
      microsPerOperation: cpuUsage.cpuMicros / operations,
      microsPerRequest: cpuUsage.cpuMicros / requests,
      cores: cpuUsage.cpuMicros / cpuUsage.wallMicros,
    },
  };
}
