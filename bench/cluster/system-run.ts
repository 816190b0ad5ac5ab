/** One queue system's figures in the cluster benchmark: our two nodes, or BullMQ's worker, on one Redis. */
export interface SystemRun {
  /** Jobs added, processed and their result read by the producer, per second of the measured window. */
  readonly jobsPerSecond: number;
  /** From adding a job to holding its result. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** (Nodes or worker) + redis-server CPU per job, all threads, from /proc. */
  readonly cpuMicrosPerJob: number;
  /** The nodes' (ours) or the worker process's (BullMQ) share of cpuMicrosPerJob. */
  readonly serverCpuMicrosPerJob: number;
  readonly redisCpuMicrosPerJob: number;
  /** The producing side in the benchmark process (autocannon, or BullMQ's Queue and QueueEvents): not in cpuMicrosPerJob. */
  readonly clientCpuMicrosPerJob: number;
  /** Growth of Redis's used_memory per stored job whose result nobody read (ours), or per job kept complete (BullMQ, removeOnComplete: false). */
  readonly redisBytesPerJob: number;
  /** Growth of used_memory over the measured window per finished, read job: what a job leaves behind in Redis once it is done. */
  readonly redisBytesLeftPerReadJob: number;
  readonly jobs: number;
  readonly failedJobs: number;
  /** Ours: HTTP requests per job (submit, polls, the fetch), by status: 202 the submit, 204 a poll too early, 200 the result. */
  readonly httpRequestsPerJob?: Readonly<Record<string, number>>;
  readonly seconds: number;
  /** Redis calls per job in the measured window, by command, from commandstats (a script's own calls count as well as its EVALSHA). */
  readonly redisCallsPerJob: Readonly<Record<string, number>>;
  /** Commands per job as MONITOR saw them in a short extra window: sent by a client (round trips, unless pipelined) or called by a script. */
  readonly monitoredCallsPerJob: MonitoredCalls;
}

export interface MonitoredCalls {
  readonly jobs: number;
  readonly fromClients: Readonly<Record<string, number>>;
  readonly fromScripts: Readonly<Record<string, number>>;
  /** The script-called commands per job, by calling script. */
  readonly fromScriptsByScript: Readonly<Record<string, number>>;
}
