// The command line as an operator meets it: --help, and bad options failing at start with a
// clear message and exit code 2.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runServerToExit, startServer } from './helpers/server-process.js';

const EXIT_BAD_OPTIONS = 2;
const ISSUE_OPTIONS = [
  '--server.endpoint', '--server.threads', '--server.maximal-queue-size', '--server.authentication', '--server.jwt-secret',
  '--server.users', '--server.handlers', '--job.cancel-grace', '--server.max-body-size', '--log.level',
];

test('--help exits 0 and lists every option with its default', async () => {
  for (const flag of ['--help', '-h']) {
    const run = await runServerToExit([flag]);
    assert.equal(run.code, 0, run.stderr);
    for (const option of ISSUE_OPTIONS) {
      const line = run.stdout.split('\n').find((candidate) => candidate.trimStart().startsWith(`${option} `));
      assert.ok(line !== undefined, `--help lists ${option}:\n${run.stdout}`);
      assert.match(line, /default/i, `--help shows the default of ${option}`);
    }
    assert.match(run.stdout, /--server\.maximal-queue-size.*4096/);
    assert.match(run.stdout, /--server\.authentication.*false/);
    assert.match(run.stdout, /--server\.max-body-size.*67108864/);
    assert.ok(!run.stdout.includes('"msg":"listening"'), '--help does not start the server');
  }
});

const BAD_COMMAND_LINES: [string, string[], string][] = [
  ['an unknown option', ['--server.no-such-option', '1'], '--server.no-such-option'],
  ['a misspelt option', ['--server.thread', '2'], '--server.thread'],
  ['a non-numeric thread count', ['--server.threads', 'abc'], '--server.threads'],
  ['zero threads', ['--server.threads', '0'], '--server.threads'],
  ['an endpoint without a scheme', ['--server.endpoint', '127.0.0.1:8529'], '--server.endpoint'],
  ['an endpoint port out of range', ['--server.endpoint', 'tcp://127.0.0.1:99999'], '--server.endpoint'],
  ['a negative queue size', ['--server.maximal-queue-size', '-1'], '--server.maximal-queue-size'],
  ['an authentication flag that is not a boolean', ['--server.authentication=maybe'], '--server.authentication'],
  ['a cancel grace that is not a number', ['--job.cancel-grace', 'soon'], '--job.cancel-grace'],
  ['a zero body size', ['--server.max-body-size', '0'], '--server.max-body-size'],
  ['an unknown log level', ['--log.level', 'loud'], '--log.level'],
  ['a missing value', ['--server.threads'], '--server.threads'],
  ['an option given twice', ['--server.threads', '1', '--server.threads', '2'], '--server.threads'],
  ['a stray argument', ['serve'], 'serve'],
];

test('malformed or unknown options exit with code 2 and a message naming the option', async () => {
  const runs = await Promise.all(BAD_COMMAND_LINES.map(async ([what, args, named]) => ({
    what, named, run: await runServerToExit(['--server.endpoint', 'tcp://127.0.0.1:0', ...args]),
  })));
  for (const { what, named, run } of runs) {
    assert.equal(run.code, EXIT_BAD_OPTIONS, `${what}: exit code (stderr: ${run.stderr})`);
    assert.ok(run.stderr.includes(named), `${what}: the message names ${named}: ${run.stderr}`);
    assert.doesNotMatch(run.stderr, /\n\s+at /, `${what}: a message, not a stack trace`);
    assert.ok(!run.stdout.includes('"msg":"listening"'), `${what}: the server did not start`);
  }
});

test('option values that cannot work exit with code 2 and a message naming the option', async () => {
  const cases: [string, string[], string][] = [
    ['a users file that does not exist', ['--server.authentication', 'true', '--server.users', '/nonexistent/users.json'], '/nonexistent/users.json'],
    ['authentication with neither users nor a JWT secret', ['--server.authentication', 'true'], '--server.'],
    ['a handler module that does not exist', ['--server.handlers', '/nonexistent/handlers.js'], '/nonexistent/handlers.js'],
  ];
  const runs = await Promise.all(cases.map(async ([what, args, named]) => ({
    what, named, run: await runServerToExit(['--server.endpoint', 'tcp://127.0.0.1:0', '--server.threads', '1', ...args]),
  })));
  for (const { what, named, run } of runs) {
    assert.ok(!run.stdout.includes('"msg":"listening"'), `${what}: the server did not start`);
    assert.ok(run.stderr.includes(named), `${what}: the message names ${named}: ${run.stderr}`);
    assert.equal(run.code, EXIT_BAD_OPTIONS, `${what}: exit code (stderr: ${run.stderr})`);
    assert.doesNotMatch(run.stderr, /\n\s+at /, `${what}: a message, not a stack trace`);
  }
});

test('a port another server holds is refused at start with one clear line, and the first server goes on answering', async (t) => {
  const first = await startServer(['--server.threads', '1']);
  t.after(() => first.stop());
  const second = await runServerToExit(['--server.endpoint', `tcp://127.0.0.1:${first.port}`, '--server.threads', '1']);
  assert.equal(second.code, 1, `exit code (stderr: ${second.stderr})`);
  assert.ok(!second.stdout.includes('"msg":"listening"'), 'the second server did not start');
  assert.match(second.stderr, new RegExp(`^error: --server\\.endpoint: cannot listen on 127\\.0\\.0\\.1:${first.port}: the address is in use`, 'm'));
  assert.doesNotMatch(second.stderr, /\n\s+at /, 'a message, not a stack trace');
  for (let attempt = 0; attempt < 20; attempt++) {
    const response = await fetch(`${first.url}/_api/version`, { headers: { connection: 'close' } });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
  }
});
