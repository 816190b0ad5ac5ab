import { JobClientError, type Operation, type OperationEvent, type OperationStatus } from '../client/index.js';
import { fitToWidth, formatOutcome, formatProgressLine, progressRate, type Outcome, type ProgressSample } from './progress-bar.js';
import { ExitCode } from './usage.js';

/** Where `jobs` writes: stdout, and whether it is a terminal (redraw in place) or a pipe (one line per update). */
export interface Screen {
  write(text: string): void;
  readonly isTTY: boolean;
  /** The terminal's width; read at each redraw, since the window may be resized. */
  readonly columns: number;
}

/** A redraw at most this often: faster than the eye reads, and a fast job's 1,000 reports/s cost nothing. */
const REDRAW_INTERVAL_MS = 100;
/** `\r` + ECMA-48 "erase entire line": the cursor stays at column 0 for the redraw. */
const CLEAR_LINE = '\r\x1b[2K';

const FINAL_EVENTS: ReadonlySet<string> = new Set(['COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED', 'CANCELLED']);

/**
 * `jobs watch`: follows the operation's events and shows its progress, then the outcome line;
 * resolves with the exit code of that outcome. Status updates that change nothing on screen
 * are skipped, and log events are left to `jobs logs`.
 */
export async function watchOperation(operation: Operation, screen: Screen): Promise<ExitCode> {
  // events() reconnects after a failed connection, without end: a server that is not there, or
  // an operation that is not, should be an error now rather than a silent wait.
  await operation.status();
  const renderer = new ProgressRenderer(screen);
  let first: ProgressSample | null = null;
  let shown: string | null = null;
  let final: OperationEvent | null = null;
  try {
    for await (const event of operation.events()) {
      if (event.event === 'LOG') continue;
      if (event.event === 'RETRYING') {
        // The next attempt starts over: a rate across attempts would mean nothing.
        first = null;
        renderer.note(retryNote(event));
        continue;
      }
      const ended = isFinalEvent(event);
      if (ended) final = event;
      // The outcome line says how it ended; a job that reported no progress has no bar to finish.
      if (ended && event.progress === null) continue;
      // Until the job reports progress, its state is all there is to show.
      const label = event.progress === null ? event.status : null;
      // What the line shows but its rate and ETA, so that a report that changes nothing visible
      // (a phase's duration, an equal repeat) draws nothing.
      const key = formatProgressLine({ progress: event.progress, label, ratePerSecond: null });
      if (key !== shown) {
        shown = key;
        const current = event.progress?.current ?? null;
        let ratePerSecond: number | null = null;
        if (current !== null) {
          const sample = { current, atMs: timeOf(event) };
          first ??= sample;
          ratePerSecond = progressRate(first, sample);
        }
        // At a terminal the line must fit its width to be redrawn in place (see fitToWidth).
        const maxWidth = screen.isTTY ? screen.columns - 1 : Infinity;
        renderer.show(formatProgressLine({ progress: event.progress, label, ratePerSecond }, maxWidth));
      }
    }
  } finally {
    renderer.end();
  }
  const outcome = await outcomeOf(operation, final);
  screen.write(`${formatOutcome(outcome)}\n`);
  return exitCodeOf(outcome);
}

/**
 * How the operation ended, from its status (which has the times, the cancel's reason and the
 * warnings) or, when that cannot be read any more, from its final event alone.
 */
export async function outcomeOf(operation: Operation, final: OperationEvent | null): Promise<Outcome> {
  let status: OperationStatus | null = null;
  try {
    status = await operation.status();
  } catch (error) {
    // Gone between its final event and this request (fetched, deleted): the event says enough.
    if (!(error instanceof JobClientError) || final === null) throw error;
  }
  const state = status?.status ?? final!.status;
  const data = final?.data ?? {};
  switch (state) {
    case 'FAILED': {
      const problem = status?.error ?? (data.error as Record<string, unknown> | undefined);
      const detail = problem?.detail ?? problem?.title;
      return { status: 'FAILED', detail: typeof detail === 'string' ? detail : null };
    }
    case 'CANCELLED':
      return { status: 'CANCELLED', reason: typeof status?.reason === 'string' ? status.reason : null };
    case 'COMPLETED':
    case 'COMPLETED_WITH_ERRORS': {
      const result = (status?.result ?? data.result) as { warnings?: Array<{ code?: unknown }> } | undefined;
      const warningCodes = (result?.warnings ?? []).map((warning) => String(warning.code ?? 'WARNING'));
      return { status: state, durationSeconds: durationOf(status), warningCodes };
    }
    default:
      // Only a status read after a 204 (the stream had ended) gets here, and it is final too.
      throw new JobClientError('BAD_ANSWER', `operation ${operation.id} is ${state} after its final event`);
  }
}

/** The last event of a stream: COMPLETED, COMPLETED_WITH_ERRORS, FAILED or CANCELLED. */
export function isFinalEvent(event: OperationEvent): boolean {
  return FINAL_EVENTS.has(event.event);
}

export function exitCodeOf(outcome: Outcome): ExitCode {
  if (outcome.status === 'FAILED') return ExitCode.failed;
  if (outcome.status === 'CANCELLED') return ExitCode.cancelled;
  return ExitCode.ok;
}

/** Seconds from start to finish, as the history's `duration` counts them; null without both times. */
function durationOf(status: OperationStatus | null): number | null {
  const timestamps = status?.timestamps as { started?: string | null; finished?: string | null } | undefined;
  const started = Date.parse(timestamps?.started ?? '');
  const finished = Date.parse(timestamps?.finished ?? '');
  return Number.isNaN(started) || Number.isNaN(finished) ? null : Math.max(0, finished - started) / 1000;
}

/** The server's time of the report, so that the rate measures the job and not the network. */
function timeOf(event: OperationEvent): number {
  const atMs = Date.parse(event.timestamp);
  return Number.isNaN(atMs) ? Date.now() : atMs;
}

function retryNote(event: OperationEvent): string {
  const error = event.data.error as { message?: unknown } | undefined;
  const message = typeof error?.message === 'string' ? `: ${error.message}` : '';
  return `attempt ${String(event.data.attempt)} failed${message}; attempt ${String(event.data.nextAttempt)} at ${String(event.data.nextAttemptAt)}`;
}

/**
 * Draws progress lines: at a terminal one line redrawn in place at most every
 * {@link REDRAW_INTERVAL_MS} (the latest line wins, drawn when the interval is up); into a pipe
 * one line per update, since `\r` would garble a log file.
 */
class ProgressRenderer {
  readonly #screen: Screen;
  /** The line on screen (terminal only), kept to redraw it below a note. */
  #drawn: string | null = null;
  #pending: string | null = null;
  #drawnAtMs = -Infinity;
  #timer: NodeJS.Timeout | null = null;

  constructor(screen: Screen) {
    this.#screen = screen;
  }

  show(line: string): void {
    if (!this.#screen.isTTY) return this.#screen.write(`${line}\n`);
    this.#pending = line;
    const waitMs = this.#drawnAtMs + REDRAW_INTERVAL_MS - performance.now();
    if (waitMs <= 0) this.#flush();
    else this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.#flush();
    }, waitMs);
  }

  /** A line of its own above the progress line (which is drawn again below it). */
  note(text: string): void {
    if (!this.#screen.isTTY) return this.#screen.write(`${text}\n`);
    this.#screen.write(`${this.#drawn === null ? '' : CLEAR_LINE}${text}\n`);
    if (this.#drawn !== null) this.#screen.write(fitToWidth(this.#drawn, this.#screen.columns));
  }

  /** Draws what is pending and ends the line, so that the outcome goes below the bar. */
  end(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#flush();
    if (this.#drawn !== null) this.#screen.write('\n');
    this.#drawn = null;
  }

  #flush(): void {
    if (this.#pending === null) return;
    this.#drawn = this.#pending;
    this.#pending = null;
    this.#drawnAtMs = performance.now();
    this.#screen.write(`${CLEAR_LINE}${fitToWidth(this.#drawn, this.#screen.columns)}`);
  }
}
