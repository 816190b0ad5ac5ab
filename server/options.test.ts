import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseServerOptions, renderHelp, OptionsError, type ServerOptions } from './options.js';

function parse(argv: string[]): ServerOptions {
  const options = parseServerOptions(argv);
  assert.notEqual(options, 'help');
  return options as ServerOptions;
}

function assertBadOption(argv: string[], messagePart: RegExp): void {
  assert.throws(() => parseServerOptions(argv), (error: unknown) => {
    assert.ok(error instanceof OptionsError);
    assert.equal(error.code, 'ERR_BAD_OPTION');
    assert.match(error.message, messagePart);
    return true;
  });
}

test('no arguments give the documented defaults', () => {
  assert.deepEqual(parse([]), {
    host: '127.0.0.1',
    port: 8529,
    threads: availableParallelism(),
    workerConcurrency: 64,
    maximalQueueSize: 4096,
    authentication: false,
    jwtSecret: undefined,
    usersFile: undefined,
    authMaxFailuresPerAddress: 30,
    authMaxFailuresPerUser: 10,
    handlerModules: [],
    cancelGraceMs: 250,
    jobTimeoutMs: 0,
    maxBodySize: 67108864,
    logLevel: 'info',
    shutdownTimeoutMs: 10000,
    retentionMs: 86_400_000,
    webhookAllow: [],
    webhookSecret: undefined,
    webhookMaxAttempts: 8,
    webhookAllowHttp: false,
    webhookCa: undefined,
    demoHandlers: false,
    maxQueuedPerUser: undefined,
    maxStoredPerUser: 0,
    rateLimit: 0,
    webhookTimeoutMs: 10_000,
    webhookMaxConcurrent: 64,
    webhookMaxPerHost: 8,
    webhookMaxQueued: 4096,
    logJobs: false,
    databaseDirectory: undefined,
    databaseWaitForSync: false,
    clusterRedis: undefined,
    clusterNodeId: undefined,
    clusterPrefix: 'aj',
  });
});

test('--name value and --name=value set every option alike', () => {
  const spaced = [
    '--server.endpoint', 'tcp://0.0.0.0:0', '--server.threads', '3', '--server.worker-concurrency', '8',
    '--server.maximal-queue-size', '100', '--server.authentication', 'true', '--server.jwt-secret', 's3cret',
    '--server.users', 'users.json', '--server.auth-max-failures-per-address', '0', '--server.auth-max-failures-per-user', '5',
    '--server.handlers', 'h.js', '--job.cancel-grace', '0', '--job.timeout', '1.5',
    '--server.max-body-size', '1024', '--log.level', 'debug', '--server.shutdown-timeout', '500',
    '--job.retention', '60', '--webhook.allow', '127.0.0.1,hooks.example.com', '--webhook.secret', 'w',
    '--server.demo-handlers', 'true', '--server.max-queued-per-user', '10',
    '--server.max-stored-per-user', '20', '--server.rate-limit', '5',
    '--webhook.max-attempts', '3', '--webhook.timeout', '2.5', '--webhook.max-concurrent', '16', '--webhook.max-per-host', '2',
    '--webhook.max-queued', '50', '--database.directory', 'data', '--database.wait-for-sync', 'true',
    '--log.jobs', 'true', '--webhook.allow-http', 'true', '--webhook.ca', 'ca.pem',
    '--cluster.redis', 'redis://127.0.0.1:6380/2', '--cluster.node-id', 'node-a', '--cluster.prefix', 'jobs-eu',
  ];
  const joined: string[] = [];
  for (let index = 0; index < spaced.length; index += 2) joined.push(`${spaced[index]}=${spaced[index + 1]}`);
  const expected: ServerOptions = {
    host: '0.0.0.0', port: 0, threads: 3, workerConcurrency: 8, maximalQueueSize: 100, authentication: true,
    jwtSecret: 's3cret', usersFile: resolve('users.json'),
    authMaxFailuresPerAddress: 0, authMaxFailuresPerUser: 5, handlerModules: [resolve('h.js')], cancelGraceMs: 0,
    jobTimeoutMs: 1500, maxBodySize: 1024, logLevel: 'debug', shutdownTimeoutMs: 500, retentionMs: 60_000,
    webhookAllow: ['127.0.0.1', 'hooks.example.com'], webhookSecret: 'w', webhookMaxAttempts: 3,
    webhookAllowHttp: true, webhookCa: resolve('ca.pem'),
    demoHandlers: true, maxQueuedPerUser: 10, maxStoredPerUser: 20, rateLimit: 5,
    webhookTimeoutMs: 2500, webhookMaxConcurrent: 16, webhookMaxPerHost: 2, webhookMaxQueued: 50,
    databaseDirectory: resolve('data'), databaseWaitForSync: true, logJobs: true,
    clusterRedis: 'redis://127.0.0.1:6380/2', clusterNodeId: 'node-a', clusterPrefix: 'jobs-eu',
  };
  assert.deepEqual(parse(spaced), expected);
  assert.deepEqual(parse(joined), expected);
});

test('endpoints accept http://, IPv6 and host names', () => {
  assert.deepEqual(parse(['--server.endpoint', 'http://localhost:80']), { ...parse([]), host: 'localhost', port: 80 });
  const ipv6 = parse(['--server.endpoint=tcp://[::1]:65535']);
  assert.equal(ipv6.host, '::1');
  assert.equal(ipv6.port, 65535);
});

test('--server.handlers repeats, keeps order and resolves against cwd', () => {
  const options = parse(['--server.handlers', 'b.js', '--server.handlers=/abs/a.js', '--server.handlers', './c.js']);
  assert.deepEqual(options.handlerModules, [resolve('b.js'), '/abs/a.js', resolve('c.js')]);
});

test('booleans: a bare flag is true, false and friends parse', () => {
  assert.equal(parse(['--server.authentication']).authentication, true);
  assert.equal(parse(['--server.authentication', '--log.level', 'warn']).authentication, true);
  assert.equal(parse(['--server.authentication', 'false']).authentication, false);
  assert.equal(parse(['--server.authentication=off']).authentication, false);
});

test('--job.timeout takes fractional seconds and stores milliseconds', () => {
  assert.equal(parse(['--job.timeout', '0.25']).jobTimeoutMs, 250);
  assert.equal(parse(['--job.timeout', '.0001']).jobTimeoutMs, 1);
  assert.equal(parse(['--job.timeout', '0']).jobTimeoutMs, 0);
});

test('--webhook.timeout takes fractional seconds and must be positive: a delivery always has a deadline', () => {
  assert.equal(parse(['--webhook.timeout', '0.5']).webhookTimeoutMs, 500);
  assert.equal(parse(['--webhook.timeout', '.0001']).webhookTimeoutMs, 1);
  assertBadOption(['--webhook.timeout', '0'], /^--webhook.timeout: expected a positive number of seconds .*, got "0"$/);
  assertBadOption(['--webhook.timeout', '10s'], /^--webhook.timeout: expected a number of seconds/);
});

test('--webhook.allow-http is a boolean, off by default; --webhook.ca is a path', () => {
  assert.equal(parse([]).webhookAllowHttp, false);
  assert.equal(parse(['--webhook.allow-http']).webhookAllowHttp, true);
  assert.equal(parse(['--webhook.allow-http', 'false']).webhookAllowHttp, false);
  assertBadOption(['--webhook.allow-http=sometimes'], /^--webhook.allow-http: expected true or false/);
  assert.equal(parse(['--webhook.ca', 'certs/ca.pem']).webhookCa, resolve('certs/ca.pem'));
  assertBadOption(['--webhook.ca='], /^--webhook.ca: expected a non-empty value/);
});

test('--webhook.allow keeps entries with ports whole', () => {
  assert.deepEqual(parse(['--webhook.allow', '127.0.0.1:9000, [::1]:8080,10.0.0.0/8:9000']).webhookAllow, ['127.0.0.1:9000', '[::1]:8080', '10.0.0.0/8:9000']);
});

test('--help and -h ask for help', () => {
  assert.equal(parseServerOptions(['--help']), 'help');
  assert.equal(parseServerOptions(['--server.threads', '2', '-h']), 'help');
});

test('unknown options and stray arguments are refused', () => {
  assertBadOption(['--server.thread', '2'], /unknown option "--server.thread"/);
  assertBadOption(['-x'], /unexpected argument "-x"/);
  assertBadOption(['extra'], /unexpected argument "extra"/);
});

test('missing values are refused', () => {
  assertBadOption(['--server.threads'], /^--server.threads: missing value$/);
  assertBadOption(['--server.jwt-secret', '--log.level', 'info'], /^--server.jwt-secret: missing value$/);
  assertBadOption(['--server.jwt-secret='], /^--server.jwt-secret: expected a non-empty value, got ""$/);
});

test('malformed numbers are refused with the option and the value', () => {
  assertBadOption(['--server.threads', 'abc'], /^--server.threads: expected a positive integer up to 1024, got "abc"$/);
  for (const bad of ['', '1.5', '-1', '1e3', '0x10', ' 4', '+4']) {
    assertBadOption([`--server.worker-concurrency=${bad}`], /^--server.worker-concurrency: expected a positive integer/);
  }
  assertBadOption(['--job.timeout', '-1'], /^--job.timeout: expected a number of seconds/);
  assertBadOption(['--job.timeout', '1s'], /^--job.timeout: expected a number of seconds/);
  assertBadOption(['--job.cancel-grace', '2.5'], /^--job.cancel-grace: expected milliseconds/);
});

test('out-of-range numbers are refused', () => {
  assertBadOption(['--server.threads', '0'], /got "0"/);
  assertBadOption(['--server.maximal-queue-size', '0'], /got "0"/);
  assertBadOption(['--server.max-body-size', '0'], /got "0"/);
  assertBadOption(['--server.shutdown-timeout', '2147483648'], /got "2147483648"/);
  assertBadOption(['--job.timeout', '2147484'], /got "2147484"/);
  for (const name of ['--webhook.max-concurrent', '--webhook.max-per-host', '--webhook.max-queued']) assertBadOption([name, '0'], /got "0"/);
  assertBadOption(['--server.endpoint', 'tcp://127.0.0.1:65536'], /^--server.endpoint: expected tcp:\/\/HOST:PORT/);
  assertBadOption(['--server.auth-max-failures-per-address', '-1'], /^--server.auth-max-failures-per-address: expected an integer from 0/);
  assertBadOption(['--server.auth-max-failures-per-user', '1.5'], /^--server.auth-max-failures-per-user: expected an integer from 0/);
});

test('malformed booleans, endpoints and log levels are refused', () => {
  assertBadOption(['--server.authentication=maybe'], /^--server.authentication: expected true or false, got "maybe"$/);
  assertBadOption(['--server.authentication', 'maybe'], /unexpected argument "maybe"/);
  for (const bad of ['127.0.0.1:8529', 'ssl://127.0.0.1:8529', 'tcp://127.0.0.1', 'tcp://:8529', 'tcp://h:80/x']) {
    assertBadOption(['--server.endpoint', bad], new RegExp(`^--server.endpoint: expected .*, got "${bad}"$`));
  }
  assertBadOption(['--log.level', 'verbose'], /^--log.level: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/);
});

test('a single-valued option given twice is refused', () => {
  assertBadOption(['--server.threads', '2', '--server.threads=3'], /^--server.threads: given more than once$/);
});

test('help lists every option with its default, aligned', () => {
  const help = renderHelp();
  const names = [
    '--server.endpoint', '--server.threads', '--server.worker-concurrency', '--server.maximal-queue-size',
    '--server.authentication', '--server.jwt-secret', '--server.users', '--server.auth-max-failures-per-address',
    '--server.auth-max-failures-per-user', '--server.handlers', '--job.cancel-grace',
    '--job.timeout', '--server.max-body-size', '--log.level', '--server.shutdown-timeout', '--job.retention',
    '--webhook.allow', '--webhook.secret', '--webhook.allow-http', '--webhook.ca', '--webhook.max-attempts', '--webhook.timeout', '--webhook.max-concurrent',
    '--webhook.max-per-host', '--webhook.max-queued', '--server.demo-handlers',
    '--server.max-queued-per-user', '--server.max-stored-per-user', '--server.rate-limit',
    '--database.directory', '--database.wait-for-sync', '--log.jobs', '--cluster.redis', '--cluster.node-id', '--cluster.prefix', '--help',
  ];
  const optionLines = help.split('\n').filter((line) => line.startsWith('  --'));
  assert.equal(optionLines.length, names.length);
  for (const name of names) assert.ok(optionLines.some((line) => line.startsWith(`  ${name} `) || line.startsWith(`  ${name},`)), name);
  for (const line of optionLines.slice(0, -1)) assert.match(line, /\[default: .+\]$/);
  assert.match(help, /tcp:\/\/127\.0\.0\.1:8529/);
  assert.match(help, /67108864/);
  const descriptionColumns = new Set(optionLines.map((line) => line.slice(2).search(/ {2}\S/)));
  assert.equal(descriptionColumns.size, 1);
});

test('cluster options: a redis:// URL with an optional database number, node ids and prefixes of safe characters', () => {
  assert.equal(parse(['--cluster.redis', 'redis://10.0.0.5:6379']).clusterRedis, 'redis://10.0.0.5:6379');
  assert.equal(parse(['--cluster.redis', 'rediss://user:pw@redis.internal:6380/3']).clusterRedis, 'rediss://user:pw@redis.internal:6380/3');
  assertBadOption(['--cluster.redis', 'http://10.0.0.5:6379'], /--cluster\.redis: .*not a redis:\/\//);
  assertBadOption(['--cluster.redis', 'nonsense'], /--cluster\.redis: .*not a URL/);
  assertBadOption(['--cluster.redis', 'redis://h:1/db'], /database number/);
  assertBadOption(['--cluster.node-id', 'a b'], /--cluster\.node-id: "a b"/);
  assertBadOption(['--cluster.prefix', 'x:y'], /--cluster\.prefix: "x:y"/);
});
