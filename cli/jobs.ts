#!/usr/bin/env node
import { parseArgs } from 'node:util';
import {
  HttpError, JobClient, JobClientError, OperationGoneError, type JobClientAuth, type OperationState,
} from '../client/index.js';
import { cancel, list, logs, result, submit, type Console, type ListRequest, type SubmitRequest } from './commands.js';
import { PromptInterruptedError, readPassword } from './password.js';
import { ExitCode, USAGE, UsageError } from './usage.js';
import { watchOperation } from './watch.js';

/**
 * `jobs`: a terminal client of the operations surface, built on arango-async-jobs/client.
 * `npm run jobs -- watch 7`; see USAGE in usage.ts and the README's "Terminal" section.
 */

const DEFAULT_URL = 'http://127.0.0.1:8529';
const DEFAULT_LIST_LIMIT = 20;
const STATES: ReadonlySet<string> = new Set(['PENDING', 'PROCESSING', 'COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED', 'CANCELLED']);

const OPTIONS = {
  url: { type: 'string' },
  user: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  method: { type: 'string' },
  body: { type: 'string' },
  header: { type: 'string', multiple: true },
  wait: { type: 'boolean' },
  status: { type: 'string' },
  type: { type: 'string' },
  limit: { type: 'string' },
  reason: { type: 'string' },
  follow: { type: 'boolean' },
} as const;

type OptionName = keyof typeof OPTIONS;
const GLOBAL_OPTIONS: readonly OptionName[] = ['url', 'user', 'token', 'help'];

/** Each command's positional arguments (by name, for the usage message) and its own options. */
const COMMANDS: Record<string, { arguments: readonly string[]; options: readonly OptionName[] }> = {
  submit: { arguments: ['PATH'], options: ['method', 'body', 'header', 'wait'] },
  watch: { arguments: ['ID'], options: [] },
  list: { arguments: [], options: ['status', 'type', 'limit'] },
  cancel: { arguments: ['ID'], options: ['reason'] },
  logs: { arguments: ['ID'], options: ['follow'] },
  result: { arguments: ['ID'], options: [] },
};

/** A command line, checked: what to run, against which server, as whom. */
type Invocation =
  | { command: 'help' }
  | { command: 'submit'; connection: Connection; request: SubmitRequest }
  | { command: 'list'; connection: Connection; request: ListRequest }
  | { command: 'watch' | 'result'; connection: Connection; operationId: string }
  | { command: 'cancel'; connection: Connection; operationId: string; reason: string | undefined }
  | { command: 'logs'; connection: Connection; operationId: string; follow: boolean };

interface Connection {
  url: string;
  token: string | undefined;
  user: string | undefined;
}

function parseCommandLine(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, tokens: true });
  } catch (error) {
    // node:util's own messages name the option and what is wrong with it.
    if (error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) throw new UsageError(error.message);
    throw error;
  }
}

/** Parses and checks `argv` (without node and the script); throws {@link UsageError}. */
function parseInvocation(argv: readonly string[], env: NodeJS.ProcessEnv): Invocation {
  const { values, positionals, tokens } = parseCommandLine(argv);
  if (values.help === true) return { command: 'help' };
  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError('missing command');
  const spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (spec === undefined) throw new UsageError(`unknown command '${command}'`);
  for (const token of tokens) {
    const name = token.kind === 'option' ? token.name as OptionName : null;
    if (name !== null && !GLOBAL_OPTIONS.includes(name) && !spec.options.includes(name)) throw new UsageError(`'${command}' takes no option --${name}`);
  }
  if (rest.length < spec.arguments.length) throw new UsageError(`'${command}' needs ${spec.arguments.slice(rest.length).join(' ')}`);
  if (rest.length > spec.arguments.length) throw new UsageError(`unexpected argument '${rest[spec.arguments.length]}'`);
  const connection = connectionOf(values, env);
  switch (command) {
    case 'submit': {
      const [path] = rest;
      if (!path.startsWith('/')) throw new UsageError(`PATH must start with '/': '${path}'`);
      const bodyFile = values.body ?? null;
      if (bodyFile === '-' && connection.user !== undefined && env.JOBS_PASSWORD === undefined) {
        throw new UsageError('--body - and a password on stdin exclude each other: set JOBS_PASSWORD');
      }
      const method = (values.method ?? (bodyFile === null ? 'GET' : 'POST')).toUpperCase();
      if (!/^[A-Z]+$/.test(method)) throw new UsageError(`--method must be an HTTP method: '${values.method}'`);
      return { command, connection, request: { method, path, bodyFile, headers: headersOf(values.header ?? []), wait: values.wait === true } };
    }
    case 'list': {
      if (values.status !== undefined && !STATES.has(values.status)) throw new UsageError(`--status must be one of ${[...STATES].join(', ')}`);
      const limit = values.limit === undefined ? DEFAULT_LIST_LIMIT : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a whole number from 1: '${values.limit}'`);
      return { command, connection, request: { status: values.status as OperationState | undefined, type: values.type, limit } };
    }
    case 'cancel':
      if (values.reason !== undefined && (values.reason.length === 0 || values.reason.length > 1000)) throw new UsageError('--reason must be 1 to 1000 characters');
      return { command, connection, operationId: rest[0], reason: values.reason };
    case 'logs':
      return { command, connection, operationId: rest[0], follow: values.follow === true };
    default:
      return { command: command as 'watch' | 'result', connection, operationId: rest[0] };
  }
}

function connectionOf(values: { url?: string; user?: string; token?: string }, env: NodeJS.ProcessEnv): Connection {
  const url = values.url ?? env.JOBS_URL ?? DEFAULT_URL;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError(`--url must be an http(s) URL: '${url}'`);
  if (values.user !== undefined && values.token !== undefined) throw new UsageError('--user and --token exclude each other');
  return { url, user: values.user, token: values.token ?? (values.user === undefined ? env.JOBS_TOKEN : undefined) };
}

/** `--header 'name: value'`, repeatable. */
function headersOf(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`--header must be 'name: value': '${line}'`);
    headers[name.toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

async function authOf(connection: Connection, env: NodeJS.ProcessEnv): Promise<JobClientAuth | undefined> {
  if (connection.token !== undefined && connection.token !== '') return { token: connection.token };
  if (connection.user === undefined) return undefined;
  return { username: connection.user, password: env.JOBS_PASSWORD ?? await readPassword(connection.user) };
}

function run(invocation: Exclude<Invocation, { command: 'help' }>, client: JobClient, out: Console): Promise<ExitCode> {
  switch (invocation.command) {
    case 'submit': return submit(client, invocation.request, out);
    case 'list': return list(client, invocation.request, out);
    case 'watch': return watchOperation(client.operation(invocation.operationId), out.stdout);
    case 'cancel': return cancel(client, invocation.operationId, invocation.reason, out);
    case 'logs': return logs(client, invocation.operationId, invocation.follow, out);
    case 'result': return result(client, invocation.operationId, out);
  }
}

/** What went wrong, in one line for stderr, for the errors a user can meet; anything else is a bug and rethrown. */
function describeFailure(error: unknown, url: string): string {
  if (error instanceof OperationGoneError) {
    return error.expiredAt === null
      ? `operation ${error.operationId} was not found, or is gone (removed, or not yours)`
      : `operation ${error.operationId} is gone: it expired at ${error.expiredAt}`;
  }
  if (error instanceof HttpError && error.status === 401) return `${error.message} (give --user or --token)`;
  if (error instanceof JobClientError) return error.message;
  // fetch's "fetch failed" TypeError carries why as its cause (ECONNREFUSED, ENOTFOUND, "bad port").
  if (error instanceof TypeError && error.cause instanceof Error) return `cannot reach ${url}: ${error.cause.message}`;
  // A file named by --body that cannot be read (ENOENT, EACCES).
  if (error instanceof Error && typeof (error as { syscall?: unknown }).syscall === 'string') return error.message;
  throw error;
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<ExitCode> {
  let invocation: Invocation;
  try {
    invocation = parseInvocation(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`jobs: ${error.message}\n\n${USAGE}`);
    return ExitCode.usage;
  }
  if (invocation.command === 'help') {
    process.stdout.write(USAGE);
    return ExitCode.ok;
  }
  const stdout = process.stdout;
  const out: Console = {
    stdout: { write: (text) => { stdout.write(text); }, isTTY: stdout.isTTY === true, get columns() { return stdout.columns > 0 ? stdout.columns : 80; } },
    stderr: process.stderr,
  };
  // Ctrl-C in the middle of a progress bar: end its line, so that the shell's prompt starts on a fresh one.
  process.once('SIGINT', () => {
    if (stdout.isTTY === true) stdout.write('\n');
    process.exit(ExitCode.interrupted);
  });
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(ExitCode.brokenPipe);
  });
  try {
    const client = new JobClient({ url: invocation.connection.url, auth: await authOf(invocation.connection, env) });
    return await run(invocation, client, out);
  } catch (error) {
    if (error instanceof PromptInterruptedError) return ExitCode.interrupted;
    process.stderr.write(`jobs: ${describeFailure(error, invocation.connection.url)}\n`);
    return ExitCode.failed;
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
