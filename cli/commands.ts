import { readFile } from 'node:fs/promises';
import {
  JobClientError, type JobClient, type Operation, type OperationEvent, type OperationState, type OperationStatus,
} from '../client/index.js';
import { formatDuration, formatOutcome, formatPercentage } from './progress-bar.js';
import { formatTable } from './table.js';
import { ExitCode } from './usage.js';
import { exitCodeOf, isFinalEvent, outcomeOf, watchOperation, type Screen } from './watch.js';

/** `jobs submit`, as parsed from the command line. */
export interface SubmitRequest {
  method: string;
  path: string;
  /** A file to send as the body; `-` for stdin. */
  bodyFile: string | null;
  headers: Record<string, string>;
  wait: boolean;
}

/** `jobs list`, as parsed from the command line. */
export interface ListRequest {
  status: OperationState | undefined;
  type: string | undefined;
  limit: number;
}

/** Where commands write: stdout as a {@link Screen}, and stderr for notes that are not the answer. */
export interface Console {
  stdout: Screen;
  stderr: { write(text: string): void };
}

/** Status requests `jobs list` keeps in flight for the progress of unfinished operations. */
const PROGRESS_LOOKUPS_IN_FLIGHT = 8;

/** Prints the new operation's id (alone on its line, for `ID=$(jobs submit ...)`), then watches it with `wait`. */
export async function submit(client: JobClient, request: SubmitRequest, out: Console): Promise<ExitCode> {
  const headers = { ...request.headers };
  let body: Uint8Array<ArrayBuffer> | undefined;
  if (request.bodyFile !== null) {
    body = new Uint8Array(request.bodyFile === '-' ? await readAll(process.stdin) : await readFile(request.bodyFile));
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
      headers['content-type'] = isJson(body) ? 'application/json' : 'application/octet-stream';
    }
  }
  const operation = await client.submit(request.method, request.path, { body, headers });
  out.stdout.write(`${operation.id}\n`);
  return request.wait ? watchOperation(operation, out.stdout) : ExitCode.ok;
}

/** The newest operations as a table: id, status, type, progress, created, duration. */
export async function list(client: JobClient, request: ListRequest, out: Console): Promise<ExitCode> {
  const operations: OperationStatus[] = [];
  for await (const operation of client.operations({ status: request.status, type: request.type, pageSize: Math.min(request.limit, 1000) })) {
    operations.push(operation);
    if (operations.length >= request.limit) break;
  }
  const percentages = await percentagesOf(client, operations);
  const rows = operations.map((operation, index) => [
    operation.operationId,
    operation.status,
    operation.type ?? '-',
    percentages[index] === null ? '-' : formatPercentage(percentages[index]).trim(),
    createdOf(operation),
    typeof operation.duration === 'number' ? formatDuration(operation.duration) : '-',
  ]);
  out.stdout.write(formatTable([
    { title: 'ID' }, { title: 'STATUS' }, { title: 'TYPE' }, { title: 'PROGRESS', align: 'right' }, { title: 'CREATED' },
    { title: 'DURATION', align: 'right' },
  ], rows));
  return ExitCode.ok;
}

export async function cancel(client: JobClient, operationId: string, reason: string | undefined, out: Console): Promise<ExitCode> {
  const answer = await client.operation(operationId).cancel(reason);
  out.stdout.write(`${formatOutcome({ status: 'CANCELLED', reason: typeof answer.reason === 'string' ? answer.reason : null })}\n`);
  return ExitCode.ok;
}

/**
 * The operation's log lines. With `follow`, then the lines it logs from now on, as its stream's
 * LOG events bring them, until it ends; the outcome goes to stderr (stdout stays the log) and
 * sets the exit code, as `watch` does.
 */
export async function logs(client: JobClient, operationId: string, follow: boolean, out: Console): Promise<ExitCode> {
  const operation = client.operation(operationId);
  if (!follow) {
    const log = await operation.logs();
    if (log.truncated) out.stderr.write('(older lines were dropped: the log keeps the newest 1,000 lines or 64 KiB)\n');
    for (const line of log.lines) out.stdout.write(formatLogLine(line));
    return ExitCode.ok;
  }
  return followLogs(operation, out);
}

/** The job's own answer body, as JSON (indented) or text; exit 1 when the job answered an error status. */
export async function result(client: JobClient, operationId: string, out: Console): Promise<ExitCode> {
  const answer = await client.operation(operationId).result();
  if (answer.body !== null) {
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body, null, 2);
    out.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
  return answer.status < 400 ? ExitCode.ok : ExitCode.failed;
}

async function followLogs(operation: Operation, out: Console): Promise<ExitCode> {
  await operation.status(); // fails at once where the stream would retry (see watchOperation)
  const events = operation.events();
  let final: OperationEvent | null = null;
  try {
    // The stream sends the current state as soon as it is open, and the lines logged from then
    // on as events. Reading /logs only after that leaves no gap; the overlap (lines logged
    // between the two) is skipped by `printed`.
    const opened = await events.next();
    const log = await operation.logs();
    const printed = new Map<string, number>();
    for (const line of log.lines) {
      out.stdout.write(formatLogLine(line));
      const key = logLineKey(line);
      printed.set(key, (printed.get(key) ?? 0) + 1);
    }
    const handle = (event: OperationEvent): void => {
      if (isFinalEvent(event)) final = event;
      if (event.event !== 'LOG') return;
      for (const line of (event.data.lines ?? []) as LogLine[]) {
        const key = logLineKey(line);
        const seen = printed.get(key) ?? 0;
        if (seen > 0) printed.set(key, seen - 1);
        else out.stdout.write(formatLogLine(line));
      }
    };
    if (opened.done !== true) handle(opened.value);
    for await (const event of events) handle(event);
  } finally {
    // Closes the stream when /logs failed before the loop took it over.
    await events.return(undefined);
  }
  const outcome = await outcomeOf(operation, final);
  out.stderr.write(`${formatOutcome(outcome)}\n`);
  return exitCodeOf(outcome);
}

interface LogLine {
  timestamp: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** `2026-12-03T12:45:33.665Z  processing  {"records":30}` */
function formatLogLine(line: LogLine): string {
  const fields = line.fields === undefined || Object.keys(line.fields).length === 0 ? '' : `  ${JSON.stringify(line.fields)}`;
  return `${line.timestamp}  ${line.message}${fields}\n`;
}

function logLineKey(line: LogLine): string {
  return JSON.stringify([line.timestamp, line.message, line.fields ?? null]);
}

/**
 * The history's items carry no progress: finished successes are 100 %, the others are asked
 * for theirs (a few requests at a time). One gone meanwhile shows `-`.
 */
async function percentagesOf(client: JobClient, operations: readonly OperationStatus[]): Promise<Array<number | null>> {
  const percentages: Array<number | null> = operations.map((operation) => {
    if (operation.progress?.percentage != null) return operation.progress.percentage;
    return operation.status === 'COMPLETED' || operation.status === 'COMPLETED_WITH_ERRORS' ? 100 : null;
  });
  const unknown = operations.map((_, index) => index).filter((index) => percentages[index] === null);
  let next = 0;
  const lookup = async (): Promise<void> => {
    while (next < unknown.length) {
      const index = unknown[next++];
      try {
        percentages[index] = (await client.operation(operations[index].operationId).status()).progress?.percentage ?? null;
      } catch (error) {
        if (!(error instanceof JobClientError)) throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PROGRESS_LOOKUPS_IN_FLIGHT, unknown.length) }, lookup));
  return percentages;
}

/** `2026-12-03T12:45:17Z`: UTC to the second. */
function createdOf(operation: OperationStatus): string {
  const timestamps = operation.timestamps as { created?: unknown } | undefined;
  const created = typeof timestamps?.created === 'string' ? timestamps.created : operation.createdAt;
  return typeof created === 'string' ? created.replace(/\.\d+Z$/, 'Z') : '-';
}

function isJson(bytes: Uint8Array): boolean {
  try {
    JSON.parse(new TextDecoder().decode(bytes));
    return true;
  } catch (error) {
    if (error instanceof SyntaxError) return false;
    throw error;
  }
}

async function readAll(input: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
