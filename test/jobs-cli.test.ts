import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { JobClient } from '../client/index.js';
import { makeUsersFile } from './helpers/credentials.js';
import { waitFor } from './helpers/http.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

/*
 * `jobs` (cli/jobs.ts) as a script runs it: a child process against the real server, its
 * stdout a pipe (so one progress line per update, no `\r`), judged by its output and its exit
 * status: 0 completed, 1 failed, 2 usage, 3 cancelled.
 */

/** The compiled CLI beside this compiled test (dist/ or dist-cli/). */
const JOBS_CLI = fileURLToPath(new URL('../cli/jobs.js', import.meta.url));
/** No run of the CLI here takes more than a few seconds; this one is killed. */
const RUN_TIMEOUT_MS = 15_000;
const BAR_LINE = /^\[[#-]{20}\] +\d+\.\d %/m;

interface JobsRun {
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the exit status and everything printed. */
  readonly exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

let server: ServerProcess;
let client: JobClient;

before(async () => {
  server = await startServer();
  client = new JobClient({ url: server.url });
});
after(async () => {
  await server?.stop();
});

/** Starts `node jobs.js ...args` with JOBS_URL set to `url` and no other JOBS_* variable of ours; `input` is its stdin. */
function startJobs(args: readonly string[], options: { url?: string; env?: Record<string, string>; input?: string } = {}): JobsRun {
  const env: NodeJS.ProcessEnv = { ...process.env, JOBS_URL: options.url ?? server.url, ...options.env };
  for (const name of ['JOBS_PASSWORD', 'JOBS_TOKEN']) if (options.env?.[name] === undefined) delete env[name];
  const child = spawn(process.execPath, [JOBS_CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(options.input ?? '');
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output.stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output.stderr += chunk; });
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...output });
    });
  });
  return { get stdout() { return output.stdout; }, get stderr() { return output.stderr; }, exited };
}

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  await new Promise((resolve) => listener.close(resolve));
  return port;
}

function runJobs(args: readonly string[], options?: Parameters<typeof startJobs>[1]): JobsRun['exited'] {
  return startJobs(args, options).exited;
}

test('watch draws one progress line per update and ends with COMPLETED: exit 0', async () => {
  const operation = await client.submit('GET', '/_admin/steps?count=5&ms=100');
  const run = await runJobs(['watch', operation.id]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, BAR_LINE);
  assert.match(run.stdout, /^\[####################\] 100\.0 %  5 steps done/m, 'the bar is drawn full at the end');
  assert.match(run.stdout, /\nCOMPLETED in \d+\.\d s\n$/);
  assert.ok(!run.stdout.includes('\r'), 'not a terminal: no redraw in place');
  assert.equal(run.stderr, '');
});

test('submit --wait of a failing job prints its id, then FAILED with the detail: exit 1', async () => {
  const run = await runJobs(['submit', '/_admin/fail', '--wait']);
  assert.equal(run.code, 1, run.stderr);
  const [id] = run.stdout.split('\n');
  assert.match(id, /^\d+$/, 'the id comes first, alone on its line');
  assert.match(run.stdout, /\nFAILED: failed on purpose with status 500\n$/);
  assert.equal((await client.operation(id).status()).status, 'FAILED');
});

test('watch of a job cancelled meanwhile ends with CANCELLED and the reason: exit 3', async () => {
  const operation = await client.submit('GET', '/_admin/steps?count=50&ms=100');
  const watching = startJobs(['watch', operation.id]);
  await waitFor('a progress line', async () => (BAR_LINE.test(watching.stdout) ? true : undefined), 10_000);
  await operation.cancel('stopped by the test');
  const run = await watching.exited;
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stdout, /\nCANCELLED: stopped by the test\n$/);
});

test('list --status COMPLETED prints a table with the operation: id, status, type, progress, created, duration', async () => {
  const operation = await client.submit('GET', '/_admin/steps?count=2&ms=10');
  await operation.wait({ timeoutMs: 10_000 });
  const run = await runJobs(['list', '--status', 'COMPLETED', '--limit', '5']);
  assert.equal(run.code, 0, run.stderr);
  const [heading, ...rows] = run.stdout.trimEnd().split('\n');
  assert.match(heading, /^ID +STATUS +TYPE +PROGRESS +CREATED +DURATION$/);
  const row = rows.find((line) => line.startsWith(`${operation.id} `));
  assert.ok(row !== undefined, run.stdout);
  assert.match(row, /^\d+ +COMPLETED +GET \/_admin\/steps +100\.0 % +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\d+\.\d s$/);
  assert.ok(rows.every((line) => / COMPLETED /.test(line)), 'only completed ones');
  assert.ok(rows.length <= 5);
});

test('cancel ID --reason R cancels the operation with that reason: exit 0; a second cancel is an error: exit 1', async () => {
  const operation = await client.submit('GET', '/_admin/steps?count=50&ms=100');
  const run = await runJobs(['cancel', operation.id, '--reason', 'not needed any more']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'CANCELLED: not needed any more\n');
  const status = await operation.status();
  assert.equal(status.status, 'CANCELLED');
  assert.equal(status.reason, 'not needed any more');
  const finished = await client.submit('GET', '/_admin/steps?count=1&ms=1');
  await finished.wait({ timeoutMs: 10_000 });
  const again = await runJobs(['cancel', finished.id]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^jobs: cancel of operation \d+: HTTP 409: .*COMPLETED/);
});

test('logs --follow prints every line once as the job logs them, until it ends; result prints its answer', async () => {
  const operation = await client.submit('GET', '/_admin/report?records=40&ms=40');
  const run = await runJobs(['logs', operation.id, '--follow']);
  assert.equal(run.code, 0, run.stderr);
  const messages = run.stdout.trimEnd().split('\n').map((line) => line.split('  ')[1]);
  assert.deepEqual(messages, ['validating', 'processing', 'generating', 'done'], run.stdout);
  assert.match(run.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z  validating  \{"records":40\}$/m);
  assert.match(run.stderr, /^COMPLETED in \d+\.\d s\n$/, 'the outcome goes to stderr, stdout is the log alone');

  const answer = await runJobs(['result', operation.id]);
  assert.equal(answer.code, 0, answer.stderr);
  assert.deepEqual(JSON.parse(answer.stdout), { reportId: `rpt-${operation.id}`, url: `/reports/rpt-${operation.id}`, records: 40 });
});

test('usage errors exit 2 with the usage on stderr: unknown command, missing argument, an option of another command', async () => {
  for (const args of [['frobnicate'], ['watch'], ['list', '--wait'], ['list', '--limit', 'many'], ['submit', 'no-slash'], []]) {
    const run = await runJobs(args);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /^jobs: .+\n\nUsage: jobs /, args.join(' '));
    assert.equal(run.stdout, '');
  }
  const unknown = await runJobs(['frobnicate']);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
});

test('an unknown operation and an unreachable server exit 1 with one line on stderr', async () => {
  const unknown = await runJobs(['watch', '987654321']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'jobs: operation 987654321 was not found, or is gone (removed, or not yours)\n');
  const port = await closedPort();
  const closed = await runJobs(['list'], { url: `http://127.0.0.1:${port}` });
  assert.equal(closed.code, 1);
  assert.equal(closed.stderr, `jobs: cannot reach http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  const watched = await runJobs(['watch', '1'], { url: `http://127.0.0.1:${port}` });
  assert.equal(watched.code, 1, 'watch does not wait for a server that is not there');
});

test('--user takes the password from stdin (or JOBS_PASSWORD) against a server with authentication', async () => {
  const users = await makeUsersFile([{ username: 'alice', password: 'a-pass' }]);
  const secured = await startServer(['--server.threads', '1', '--server.authentication', 'true', '--server.users', users.path, '--server.jwt-secret', 'cli-jwt']);
  try {
    const submitted = await runJobs(['--user', 'alice', 'submit', '/_admin/steps?count=2&ms=10', '--wait'], { url: secured.url, input: 'a-pass\n' });
    assert.equal(submitted.code, 0, submitted.stderr);
    const id = submitted.stdout.split('\n')[0];
    assert.match(submitted.stdout, /\nCOMPLETED in /);

    const listed = await runJobs(['--url', secured.url, '--user', 'alice', 'list'], { url: 'http://127.0.0.1:1', env: { JOBS_PASSWORD: 'a-pass' } });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${id} +COMPLETED `, 'm'), '--url wins over JOBS_URL');

    const wrong = await runJobs(['--user', 'alice', 'list'], { url: secured.url, input: 'not-the-pass\n' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^jobs: .*HTTP 401/);
    const anonymous = await runJobs(['list'], { url: secured.url });
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /HTTP 401.*\(give --user or --token\)/);
  } finally {
    await secured.stop();
    await users.remove();
  }
});
