/** Load side of the benchmark suite: drives any deployment over HTTP and measures it. */
export { runLoad } from './run-load.js';
export { LatencyHistogram } from './latency-histogram.js';
export type { LatencySummary, LoadOptions, LoadResult, ServerCpuCost } from './run-load.js';
export { SCENARIO_NAMES, isScenarioName } from './scenarios.js';
export type { OperationKind, ScenarioName } from './scenarios.js';
export { measureServerCpu, readCpuMicros } from './server-cpu.js';
export type { ServerCpuMeter, ServerCpuUsage } from './server-cpu.js';
export { ServerProcess } from './server-process.js';
export type { ServerCommand, ServerStartOptions } from './server-process.js';
export { LOAD_TARGET_NAMES, isLoadTargetName, loadTargetCommand } from './targets.js';
export type { LoadTargetName } from './targets.js';
export { formatLoadResults } from './format-load-result.js';
export { SSE_SCENARIO_NAME, runSseLoad } from './sse-watchers.js';
export type { SseLoadOptions, SseLoadResult, SseServerMemory } from './sse-watchers.js';
export { formatSseResults } from './format-sse-result.js';
export { readServerRssKb } from './server-memory.js';
