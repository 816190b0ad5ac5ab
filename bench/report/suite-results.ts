import type { LoadResult, LoadTargetName, ScenarioName } from '../load/index.js';
import type { MachineInfo } from './machine-info.js';
import type { Ratios } from './ratios.js';
import type { TargetCheck } from './target-checks.js';

export const MICRO_PART_NAMES = ['dispatch', 'cancel', 'codec', 'jobs', 'memory', 'auth-flood', 'slow-readers', 'webhook-fds', 'durable', 'cluster'] as const;
export type MicroPartName = (typeof MICRO_PART_NAMES)[number];

export function isMicroPartName(name: string): name is MicroPartName {
  return (MICRO_PART_NAMES as readonly string[]).includes(name);
}

/** Environment variables each micro-benchmark's process gets unless already set. */
export type PartEnvironment = Readonly<Record<MicroPartName, Readonly<Record<string, string>>>>;

/** How the load runs were made, as bench/run.ts sets it. */
export interface SuiteSettings {
  readonly connections: number;
  readonly threads: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: Readonly<Record<ScenarioName, number>>;
  readonly fastifyCancelMode: Readonly<Record<ScenarioName, 'signal' | 'port'>>;
}

export interface LoadRun {
  readonly scenario: ScenarioName;
  readonly target: LoadTargetName;
  /** Extra settings the target ran with, shown next to its name. */
  readonly settings: string;
  readonly seconds: number;
  readonly result?: LoadResult;
  readonly error?: string;
}

export interface MicroRun {
  readonly part: MicroPartName;
  readonly seconds: number;
  readonly data?: unknown;
  readonly error?: string;
}

/** Everything one run of the suite found: written as bench/results/*.json, rendered as *.md. */
export interface SuiteResults {
  readonly command: string;
  /** ISO time the run started. */
  readonly startedAt: string;
  readonly totalSeconds: number;
  readonly machine: MachineInfo;
  readonly settings: SuiteSettings;
  readonly load: readonly LoadRun[];
  readonly ratios: readonly Ratios[];
  readonly targets: readonly TargetCheck[];
  readonly micro: readonly MicroRun[];
}
