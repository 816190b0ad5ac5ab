import type { Progress } from '../client/index.js';

/**
 * What `jobs watch` prints, as pure functions of what the server reported: the progress line
 * `[#########-----------]  45.0 %  DATA_PROCESSING  Processing customer records  12.3/s  ETA 4s`
 * and the outcome line (`COMPLETED in 1.2 s`, `FAILED: ...`, `CANCELLED: ...`).
 */

/** Characters between the brackets of the bar. */
export const BAR_WIDTH = 20;

/** One progress report: how far the job was (`progress.current`) and when (epoch ms). */
export interface ProgressSample {
  current: number;
  atMs: number;
}

/** Everything one progress line shows. */
export interface ProgressLine {
  progress: Progress | null;
  /** Shown where the phase goes when the progress names none: the state (`PENDING`) before any progress. */
  label: string | null;
  /** `progress.current` per second, or null while unknown. */
  ratePerSecond: number | null;
}

/** How an operation ended, as the last line says it. */
export type Outcome =
  | { status: 'COMPLETED' | 'COMPLETED_WITH_ERRORS'; durationSeconds: number | null; warningCodes: readonly string[] }
  | { status: 'FAILED'; detail: string | null }
  | { status: 'CANCELLED'; reason: string | null };

/** `[#########-----------]` for 45 %; all `-` when the percentage is unknown. */
export function formatBar(percentage: number | null, width: number = BAR_WIDTH): string {
  const filled = percentage === null ? 0 : Math.max(0, Math.min(width, Math.floor((percentage * width) / 100)));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** ` 45.0 %`, `100.0 %`, `    ? %`: always 7 characters, so that the bar's text does not jump. */
export function formatPercentage(percentage: number | null): string {
  return `${(percentage === null ? '?' : percentage.toFixed(1)).padStart(5)} %`;
}

/**
 * The shortest time a rate is measured over. A watcher's first report is the state when it
 * connected, some time after the job last reported; over a few milliseconds that lag showed as
 * 143/s for a job doing 10/s, over 500 ms it is at most a fifth.
 */
export const MIN_RATE_WINDOW_MS = 500;

/**
 * `progress.current` per second from the first report to `latest`; null until
 * {@link MIN_RATE_WINDOW_MS} passed and the job moved (a rate of 0 would promise an endless ETA).
 */
export function progressRate(first: ProgressSample, latest: ProgressSample): number | null {
  const elapsedMs = latest.atMs - first.atMs;
  const done = latest.current - first.current;
  return elapsedMs >= MIN_RATE_WINDOW_MS && done > 0 ? (done * 1000) / elapsedMs : null;
}

/** Seconds left at `ratePerSecond`, or null when the total or the rate is unknown. */
export function etaSeconds(progress: Progress, ratePerSecond: number | null): number | null {
  if (ratePerSecond === null || progress.current === null || progress.total === null) return null;
  return Math.max(0, progress.total - progress.current) / ratePerSecond;
}

/** `12.3/s` */
export function formatRate(ratePerSecond: number): string {
  return `${ratePerSecond.toFixed(1)}/s`;
}

/** `4s`, `1m05s`, `2h03m`: whole units, rounded up (an ETA that says 0s should mean it). */
export function formatEta(seconds: number): string {
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/** `1.2 s`, `2m 05s`, `1h 02m`: how long an operation took. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The progress line; parts the server did not report (phase, message, rate, ETA) are left out.
 * A line wider than `maxWidth` gives up its message's end first, then the whole message, so
 * that the rate and ETA stay in sight.
 */
export function formatProgressLine(line: ProgressLine, maxWidth: number = Infinity): string {
  const { progress, label, ratePerSecond } = line;
  const percentage = progress?.percentage ?? null;
  const before = [`${formatBar(percentage)} ${formatPercentage(percentage)}`];
  const phase = progress?.phase ?? label;
  if (phase !== null) before.push(phase);
  const after: string[] = [];
  if (ratePerSecond !== null) after.push(formatRate(ratePerSecond));
  const eta = progress === null ? null : etaSeconds(progress, ratePerSecond);
  if (eta !== null) after.push(`ETA ${formatEta(eta)}`);
  let message = progress?.message ?? '';
  const withoutMessage = [...before, ...after].join(SEPARATOR);
  const room = maxWidth - withoutMessage.length - SEPARATOR.length;
  if (message.length > room) message = room >= MIN_MESSAGE_WIDTH ? `${message.slice(0, room - 1)}…` : '';
  return message === '' ? withoutMessage : [...before, message, ...after].join(SEPARATOR);
}

const SEPARATOR = '  ';
/** A message cut shorter than this says nothing; it is left out instead. */
const MIN_MESSAGE_WIDTH = 8;

/** `COMPLETED in 1.2 s`, `COMPLETED_WITH_ERRORS in 1.2 s (warnings: MISSING_DATA)`, `FAILED: detail`, `CANCELLED: reason`. */
export function formatOutcome(outcome: Outcome): string {
  switch (outcome.status) {
    case 'COMPLETED':
    case 'COMPLETED_WITH_ERRORS': {
      const took = outcome.durationSeconds === null ? '' : ` in ${formatDuration(outcome.durationSeconds)}`;
      const warnings = outcome.warningCodes.length === 0 ? '' : ` (warnings: ${outcome.warningCodes.join(', ')})`;
      return `${outcome.status}${took}${warnings}`;
    }
    case 'FAILED':
      return outcome.detail === null ? 'FAILED' : `FAILED: ${outcome.detail}`;
    case 'CANCELLED':
      return outcome.reason === null ? 'CANCELLED' : `CANCELLED: ${outcome.reason}`;
  }
}

/**
 * The line cut to `columns - 1` characters: a line that wraps cannot be redrawn in place with
 * `\r`, and some terminals wrap as soon as the last column is written.
 */
export function fitToWidth(line: string, columns: number): string {
  const room = Math.max(1, columns - 1);
  return line.length <= room ? line : `${line.slice(0, Math.max(0, room - 1))}…`;
}
