import type { JobLogLine, JobProgress, JobWarning, PhaseProgress } from './types.js';

/*
 * What a running job reports beside progress, bounded in the worker: its log lines, its
 * warnings and its phases. A handler that logs in a tight loop must not fill the response ring
 * nor the main thread's memory, so each buffer keeps the newest lines within its bounds and
 * counts what it cut; what a handler passes is copied to plain data of known types first, so
 * that nothing it hands in (a cycle, a BigInt, a getter that throws) can fail the encoding.
 */

/** Per job: the newest this many lines, and at most this many characters of them. */
export const MAX_LOG_LINES = 1000;
export const MAX_LOG_CHARS = 64 * 1024;
/** A longer message is cut to this. */
const MAX_LINE_CHARS = 4096;
export const MAX_WARNINGS = 100;
const MAX_FIELDS = 16;
const MAX_FIELD_CHARS = 1024;
const MAX_PHASES = 64;

/** Log lines not yet sent, newest last, within MAX_LOG_LINES and MAX_LOG_CHARS. */
export class LogBuffer {
  lines: JobLogLine[] = [];
  /** Lines cut from this batch to keep within bounds. */
  dropped = 0;
  #chars = 0;

  add(message: unknown, fields: unknown, atMs: number): void {
    let text: string;
    try {
      text = typeof message === 'string' ? message : String(message);
    } catch {
      text = Object.prototype.toString.call(message);
    }
    if (text.length > MAX_LINE_CHARS) text = text.slice(0, MAX_LINE_CHARS);
    const line: JobLogLine = { atMs, message: text, fields: plainFields(fields, true) as JobLogLine['fields'] };
    this.lines.push(line);
    this.#chars += lineChars(line);
    while (this.lines.length > MAX_LOG_LINES || (this.#chars > MAX_LOG_CHARS && this.lines.length > 1)) {
      this.#chars -= lineChars(this.lines.shift()!);
      this.dropped++;
    }
  }

  /** Hands over the batch and starts an empty one. */
  take(): { lines: JobLogLine[]; dropped: number } {
    const batch = { lines: this.lines, dropped: this.dropped };
    this.lines = [];
    this.dropped = 0;
    this.#chars = 0;
    return batch;
  }
}

/** What a line costs against MAX_LOG_CHARS: its message and its fields as JSON would show them. */
export function lineChars(line: JobLogLine): number {
  let chars = line.message.length + 32;
  if (line.fields !== null) for (const key in line.fields) chars += key.length + String(line.fields[key]).length + 6;
  return chars;
}

/** A warning as it travels: `message` a string, the other fields of known types; null for a value that is no warning. */
export function plainWarning(warning: unknown): JobWarning | null {
  const fields = plainFields(warning, false);
  if (fields === null) return typeof warning === 'string' ? { message: warning.slice(0, MAX_FIELD_CHARS) } : null;
  if (typeof fields.message !== 'string') fields.message = typeof fields.code === 'string' ? fields.code : 'warning';
  return fields as JobWarning;
}

/** Appends `warnings` (a handler's values) to `into` up to MAX_WARNINGS; returns `into`, created when needed. */
export function addWarnings(into: JobWarning[] | null, warnings: unknown): JobWarning[] | null {
  if (!Array.isArray(warnings)) return into;
  for (const warning of warnings) {
    if ((into?.length ?? 0) >= MAX_WARNINGS) break;
    const plain = plainWarning(warning);
    if (plain !== null) (into ??= []).push(plain);
  }
  return into;
}

/**
 * An object's own enumerable fields with string, number (finite), boolean (and, with
 * `allowNull`, null) values, strings cut to MAX_FIELD_CHARS, at most MAX_FIELDS of them; null
 * when it is no object or has none. Reading runs handler code (getters): if that throws, the
 * fields read so far are kept.
 */
function plainFields(value: unknown, allowNull: boolean): Record<string, string | number | boolean | null> | null {
  if (value === null || typeof value !== 'object') return null;
  let fields: Record<string, string | number | boolean | null> | null = null;
  try {
    let count = 0;
    for (const key of Object.keys(value)) {
      if (count >= MAX_FIELDS) break;
      const field = (value as Record<string, unknown>)[key];
      if (typeof field === 'string') (fields ??= {})[key] = field.length > MAX_FIELD_CHARS ? field.slice(0, MAX_FIELD_CHARS) : field;
      else if (typeof field === 'boolean' || (typeof field === 'number' && Number.isFinite(field)) || (allowNull && field === null)) (fields ??= {})[key] = field;
      else continue;
      count++;
    }
  } catch {
    // Named case: a getter threw; what was read before it stands.
  }
  return fields;
}

/**
 * The phases of a job that names them. Naming a phase other than the current one ends the
 * current one then and there (its duration is exact, whatever the coalescing of progress
 * reports); `phases` declares the plan, so that phases not reached yet show as PENDING.
 */
export class PhaseTracker {
  readonly #phases: PhaseProgress[] = [];
  #current = -1;

  /** True when the report changed the phases. */
  report(progress: JobProgress, nowMs: number): boolean {
    let changed = false;
    const declared = progress.phases;
    if (Array.isArray(declared)) {
      for (const name of declared) {
        if (typeof name !== 'string' || this.#phases.length >= MAX_PHASES || this.#indexOf(name) >= 0) continue;
        this.#phases.push({ name, status: 'PENDING', startedAtMs: 0, endedAtMs: 0 });
        changed = true;
      }
    }
    const phase = progress.phase;
    if (typeof phase === 'string' && (this.#current < 0 || this.#phases[this.#current].name !== phase)) {
      if (this.#current >= 0) {
        const previous = this.#phases[this.#current];
        previous.status = 'COMPLETED';
        previous.endedAtMs = nowMs;
      }
      let index = this.#indexOf(phase);
      if (index < 0 && this.#phases.length < MAX_PHASES) {
        this.#phases.push({ name: phase, status: 'PENDING', startedAtMs: 0, endedAtMs: 0 });
        index = this.#phases.length - 1;
      }
      if (index >= 0) {
        const next = this.#phases[index];
        next.status = 'IN_PROGRESS';
        next.startedAtMs = nowMs;
        next.endedAtMs = 0;
        // Phases the job skipped on its way count as done.
        for (let earlier = 0; earlier < index; earlier++) if (this.#phases[earlier].status === 'PENDING') this.#phases[earlier].status = 'COMPLETED';
      }
      this.#current = index;
      changed = true;
    }
    return changed;
  }

  get empty(): boolean {
    return this.#phases.length === 0;
  }

  /** A copy, for an envelope. */
  snapshot(): PhaseProgress[] {
    return this.#phases.map((phase) => ({ ...phase }));
  }

  #indexOf(name: string): number {
    for (let index = 0; index < this.#phases.length; index++) if (this.#phases[index].name === name) return index;
    return -1;
  }
}
