import { lineChars, MAX_LOG_CHARS, MAX_LOG_LINES, type JobLogBatch, type JobLogLine } from '../../engine/index.js';

/**
 * A running operation's log on the main thread: the newest lines within the engine's bounds
 * (1,000 lines, 64 KiB), `truncated` once older ones were cut here or in the worker. What it
 * holds is stored with the job when the job ends (`JobDetails.logs`).
 */
export class OperationLog {
  lines: JobLogLine[];
  truncated: boolean;
  #chars = 0;

  constructor(lines: JobLogLine[] = [], truncated = false) {
    this.lines = lines;
    this.truncated = truncated;
    for (const line of lines) this.#chars += lineChars(line);
  }

  add(batch: JobLogBatch): void {
    if (batch.dropped > 0) this.truncated = true;
    for (const line of batch.lines) {
      this.lines.push(line);
      this.#chars += lineChars(line);
    }
    let cut = 0;
    while (this.lines.length - cut > MAX_LOG_LINES || (this.#chars > MAX_LOG_CHARS && this.lines.length - cut > 1)) this.#chars -= lineChars(this.lines[cut++]);
    if (cut > 0) {
      this.lines.splice(0, cut);
      this.truncated = true;
    }
  }

  stored(): { lines: JobLogLine[]; truncated: boolean } {
    return { lines: this.lines, truncated: this.truncated };
  }
}

/** A log line as the logs resource and `log` events show it. */
export function logLineView(line: JobLogLine): Record<string, unknown> {
  const view: Record<string, unknown> = { timestamp: new Date(line.atMs).toISOString(), message: line.message };
  if (line.fields !== null) view.fields = line.fields;
  return view;
}
