import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { constants as bufferConstants } from 'node:buffer';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Settings of one server process, from the command line (`parseServerOptions`). */
export interface ServerOptions {
  host: string;
  /** 0 asks the OS for an ephemeral port. */
  port: number;
  /** Worker threads in the pool. */
  threads: number;
  /** Async jobs one worker runs at once. */
  workerConcurrency: number;
  /** Jobs waiting or running before new ones are refused. */
  maximalQueueSize: number;
  authentication: boolean;
  jwtSecret: string | undefined;
  /** Absolute path. */
  usersFile: string | undefined;
  /** Failed password checks per client address within a minute before 429; 0: no limit. */
  authMaxFailuresPerAddress: number;
  /** Failed password checks per user name within a minute before 429; 0: no limit. */
  authMaxFailuresPerUser: number;
  /** Absolute paths, in command-line order. */
  handlerModules: string[];
  /** Grace period a cancelled job gets to stop, in ms. */
  cancelGraceMs: number;
  /** Server-wide job deadline in ms; 0 means none. */
  jobTimeoutMs: number;
  /** Largest accepted request body, in bytes. */
  maxBodySize: number;
  logLevel: LogLevel;
  /** On SIGTERM, how long running jobs may finish before they are cancelled, in ms. */
  shutdownTimeoutMs: number;
  /** How long finished operations (submitted with `Prefer: respond-async`) are kept, in ms. */
  retentionMs: number;
  /** `--webhook.allow` entries (host names, wildcards, addresses, CIDRs), comma-split. */
  webhookAllow: string[];
  webhookSecret: string | undefined;
  webhookMaxAttempts: number;
  /** Deliver to http: targets too (local development and tests); otherwise HTTPS only. */
  webhookAllowHttp: boolean;
  /** Absolute path of a PEM file of CA certificates trusted for HTTPS deliveries besides Node's bundled roots. */
  webhookCa: string | undefined;
  /** Mount /_admin/spin, /steps, /fail and /crash (for tests and demonstrations only). */
  demoHandlers: boolean;
  /** Jobs of one user waiting for a worker; undefined: the default share (user-limits.ts), 0: none. */
  maxQueuedPerUser: number | undefined;
  /** Unfetched stored jobs of one user; 0: no limit. */
  maxStoredPerUser: number;
  /** Jobs one user may submit per second (bursts of as many); 0: off. */
  rateLimit: number;
  /** Deadline of one delivery attempt, in ms (at least 1). */
  webhookTimeoutMs: number;
  /** Delivery attempts in flight at once, all targets together. */
  webhookMaxConcurrent: number;
  /** Delivery attempts in flight at once to one target origin. */
  webhookMaxPerHost: number;
  /** Deliveries waiting for a free slot before the oldest of the busiest origin is dropped. */
  webhookMaxQueued: number;
  /** One log line per job transition (submitted, started, retrying, finished, cancel requested, expired). */
  logJobs: boolean;
  /** Absolute path of the durable store (LMDB); undefined: jobs live in memory only. */
  databaseDirectory: string | undefined;
  /** Answer writes only once they reached the disk (fsync), for power-loss durability. */
  databaseWaitForSync: boolean;
  /** `redis://HOST:PORT[/DB]` of the cluster this node joins; undefined: a single server. */
  clusterRedis: string | undefined;
  /** This node's name in the cluster; undefined: `HOST:PORT` of its endpoint. */
  clusterNodeId: string | undefined;
  /** Prefix of the cluster's keys in Redis, so that several clusters can share one. */
  clusterPrefix: string;
}

/** A command line the server cannot start with; the message names the option and the bad value. */
export class OptionsError extends Error {
  readonly code = 'ERR_BAD_OPTION';
  constructor(message: string) {
    super(message);
    this.name = 'OptionsError';
  }
}

interface Endpoint {
  host: string;
  port: number;
}

interface OptionSpec<Value> {
  readonly name: `--${string}`;
  /** Placeholder for the value in --help. */
  readonly valueName: string;
  readonly help: string;
  /** A factory, so that no two parses share a default array. */
  readonly defaultValue: () => Value;
  /** How --help shows the default when `String(defaultValue())` would not say it well. */
  readonly defaultText?: string;
  /** A flag given without a value takes this one (booleans). */
  readonly implicitValue?: string;
  /** Repeatable options accumulate through `previous`; others may be given only once. */
  readonly repeatable?: boolean;
  parse(value: string, name: string, previous: Value): Value;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
// setTimeout silently turns delays above 2^31-1 ms into 1 ms, so a longer grace or timeout would fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;
const BOOLEAN_VALUES: ReadonlyMap<string, boolean> = new Map([
  ['true', true], ['yes', true], ['on', true], ['1', true],
  ['false', false], ['no', false], ['off', false], ['0', false],
]);

function fail(name: string, expected: string, value: string): never {
  throw new OptionsError(`${name}: expected ${expected}, got ${JSON.stringify(value)}`);
}

function integerIn(minimum: number, maximum: number, expected: string) {
  return (value: string, name: string): number => {
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!(parsed >= minimum && parsed <= maximum)) fail(name, expected, value);
    return parsed;
  };
}

function parseBoolean(value: string, name: string): boolean {
  const parsed = BOOLEAN_VALUES.get(value.toLowerCase());
  if (parsed === undefined) fail(name, 'true or false', value);
  return parsed;
}

function parseNonEmpty(value: string, name: string): string {
  if (value === '') fail(name, 'a non-empty value', value);
  return value;
}

/** A file or directory, made absolute against the working directory the server started in. */
function parsePath(value: string, name: string): string {
  return resolve(parseNonEmpty(value, name));
}

function parseEndpoint(value: string, name: string): Endpoint {
  // ArangoDB also knows ssl:// and unix://; this server speaks plain TCP only.
  const match = /^(?:tcp|http):\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = match === null ? Number.NaN : Number(match[2]);
  if (match === null || !(port <= 65535)) fail(name, 'tcp://HOST:PORT with a port from 0 to 65535', value);
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

function parseSecondsAsMs(value: string, name: string): number {
  const seconds = /^(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
  // Round up so that a tiny positive timeout stays a timeout rather than becoming 0 = none.
  const ms = Math.ceil(seconds * 1000);
  if (!(ms <= MAX_TIMER_MS)) fail(name, `a number of seconds from 0 to ${MAX_TIMER_MS / 1000}`, value);
  return ms;
}

const ENDPOINT: OptionSpec<Endpoint> = {
  name: '--server.endpoint', valueName: 'tcp://HOST:PORT',
  help: 'address to listen on (http:// also accepted; port 0 picks a free port)',
  defaultValue: () => ({ host: '127.0.0.1', port: 8529 }), defaultText: 'tcp://127.0.0.1:8529',
  parse: parseEndpoint,
};
const THREADS: OptionSpec<number> = {
  name: '--server.threads', valueName: 'N', help: 'worker threads running jobs',
  defaultValue: () => availableParallelism(), defaultText: `${availableParallelism()} (os.availableParallelism())`,
  parse: integerIn(1, 1024, 'a positive integer up to 1024'),
};
const WORKER_CONCURRENCY: OptionSpec<number> = {
  name: '--server.worker-concurrency', valueName: 'N', help: 'async jobs one worker runs at once',
  defaultValue: () => 64, parse: integerIn(1, 65536, 'a positive integer up to 65536'),
};
const MAXIMAL_QUEUE_SIZE: OptionSpec<number> = {
  name: '--server.maximal-queue-size', valueName: 'N', help: 'jobs waiting for a worker before new ones are refused (HTTP 500, errorNum 21003)',
  defaultValue: () => 4096, parse: integerIn(1, 2 ** 30, 'a positive integer up to 2^30'),
};
const AUTHENTICATION: OptionSpec<boolean> = {
  name: '--server.authentication', valueName: 'true|false', help: 'require Basic or JWT credentials on every request',
  defaultValue: () => false, implicitValue: 'true', parse: parseBoolean,
};
const JWT_SECRET: OptionSpec<string | undefined> = {
  name: '--server.jwt-secret', valueName: 'SECRET', help: 'HS256 secret that signs and checks JWTs',
  defaultValue: () => undefined, defaultText: 'random per process', parse: parseNonEmpty,
};
const USERS: OptionSpec<string | undefined> = {
  name: '--server.users', valueName: 'FILE', help: 'JSON users file (see scripts/add-user)',
  defaultValue: () => undefined, parse: parsePath,
};
// Behind a reverse proxy every client has the proxy's address: raise or turn off the address limit there.
const AUTH_MAX_FAILURES_PER_ADDRESS: OptionSpec<number> = {
  name: '--server.auth-max-failures-per-address', valueName: 'N',
  help: 'failed password checks from one client address within a minute before further attempts get 429 (0: no limit)',
  defaultValue: () => 30, parse: integerIn(0, 1_000_000, 'an integer from 0 to 1000000'),
};
const AUTH_MAX_FAILURES_PER_USER: OptionSpec<number> = {
  name: '--server.auth-max-failures-per-user', valueName: 'N',
  help: 'failed password checks for one user name within a minute before further attempts get 429 (0: no limit)',
  defaultValue: () => 10, parse: integerIn(0, 1_000_000, 'an integer from 0 to 1000000'),
};
const HANDLERS: OptionSpec<string[]> = {
  name: '--server.handlers', valueName: 'PATH', help: 'handler module to load; repeat for more, in order',
  defaultValue: () => [], repeatable: true,
  parse: (value, name, previous) => [...previous, parsePath(value, name)],
};
const CANCEL_GRACE: OptionSpec<number> = {
  name: '--job.cancel-grace', valueName: 'MS', help: 'grace period a cancelled job gets to stop',
  defaultValue: () => 250, parse: integerIn(0, MAX_TIMER_MS, `milliseconds from 0 to ${MAX_TIMER_MS}`),
};
const JOB_TIMEOUT: OptionSpec<number> = {
  name: '--job.timeout', valueName: 'SECONDS', help: 'server-wide job deadline, fractions allowed',
  defaultValue: () => 0, defaultText: '0 (none)', parse: parseSecondsAsMs,
};
const MAX_BODY_SIZE: OptionSpec<number> = {
  name: '--server.max-body-size', valueName: 'BYTES', help: 'largest accepted request body',
  defaultValue: () => 64 * 1024 * 1024, defaultText: '67108864 (64 MiB)',
  // A body is gathered into one Buffer, which cannot exceed this length.
  parse: integerIn(1, bufferConstants.MAX_LENGTH, `a positive integer up to ${bufferConstants.MAX_LENGTH}`),
};
const LOG_LEVEL: OptionSpec<LogLevel> = {
  name: '--log.level', valueName: 'LEVEL', help: `log verbosity: ${LOG_LEVELS.join('|')}`,
  defaultValue: () => 'info',
  parse: (value, name) => LOG_LEVELS.find((level) => level === value) ?? fail(name, `one of ${LOG_LEVELS.join(', ')}`, value),
};
const SHUTDOWN_TIMEOUT: OptionSpec<number> = {
  name: '--server.shutdown-timeout', valueName: 'MS', help: 'on SIGTERM, time running jobs get before they are cancelled',
  defaultValue: () => 10000, parse: integerIn(0, MAX_TIMER_MS, `milliseconds from 0 to ${MAX_TIMER_MS}`),
};

const RETENTION: OptionSpec<number> = {
  name: '--job.retention', valueName: 'SECONDS', help: 'how long finished operations (Prefer: respond-async) are kept',
  defaultValue: () => 86_400_000, defaultText: '86400 (one day)',
  parse: (value, name) => {
    const seconds = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!(seconds >= 1 && seconds <= 10 * 365 * 86400)) fail(name, 'whole seconds from 1 to ten years', value);
    return seconds * 1000;
  },
};
const WEBHOOK_ALLOW: OptionSpec<string[]> = {
  name: '--webhook.allow', valueName: 'HOSTS',
  help: 'webhook targets allowed: host names, *.wildcards, addresses, CIDRs, each with an optional :PORT (without one: ports 80 and 443 only); comma-separated, repeatable',
  defaultValue: () => [], defaultText: '(none: webhooks are refused)', repeatable: true,
  parse: (value, name, previous) => [...previous, ...parseNonEmpty(value, name).split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')],
};
const WEBHOOK_SECRET: OptionSpec<string | undefined> = {
  name: '--webhook.secret', valueName: 'SECRET', help: 'HMAC-SHA256 key that signs webhook deliveries',
  defaultValue: () => undefined, defaultText: '(none; required with --webhook.allow)', parse: parseNonEmpty,
};
// The seed: "Use HTTPS Only: Never send webhooks over HTTP". Plain http: only on the operator's word.
const WEBHOOK_ALLOW_HTTP: OptionSpec<boolean> = {
  name: '--webhook.allow-http', valueName: 'true|false',
  help: 'also deliver webhooks to http:// targets (local development and tests); otherwise an http:// x-callback-url is a 400',
  defaultValue: () => false, implicitValue: 'true', parse: parseBoolean,
};
const WEBHOOK_CA: OptionSpec<string | undefined> = {
  name: '--webhook.ca', valueName: 'FILE',
  help: 'PEM file of CA certificates trusted for HTTPS webhook targets, besides Node\'s bundled roots (a private CA)',
  defaultValue: () => undefined, defaultText: '(none: the bundled roots only)', parse: parsePath,
};
const WEBHOOK_MAX_ATTEMPTS: OptionSpec<number> = {
  name: '--webhook.max-attempts', valueName: 'N', help: 'delivery attempts of one webhook event before giving up',
  defaultValue: () => 8, parse: integerIn(1, 100, 'an integer from 1 to 100'),
};
const WEBHOOK_TIMEOUT: OptionSpec<number> = {
  name: '--webhook.timeout', valueName: 'SECONDS',
  help: 'deadline of one delivery attempt, DNS lookup to response status, fractions allowed; a timeout is a failed attempt, retried',
  defaultValue: () => 10_000, defaultText: '10',
  parse: (value, name) => {
    const ms = parseSecondsAsMs(value, name);
    if (ms === 0) fail(name, 'a positive number of seconds (a delivery always has a deadline)', value);
    return ms;
  },
};
// Each attempt in flight holds one socket: 64 keeps webhooks to a few percent of a 1024 fd limit,
// and at a receiver's typical 50-100 ms that still carries 600+ deliveries a second.
const WEBHOOK_MAX_CONCURRENT: OptionSpec<number> = {
  name: '--webhook.max-concurrent', valueName: 'N', help: 'delivery attempts in flight at once, all targets together (one socket each)',
  defaultValue: () => 64, parse: integerIn(1, 65536, 'a positive integer up to 65536'),
};
// 8 per origin: a healthy receiver still gets parallel requests (browsers open 6 per host), while
// one that hangs until the timeout holds 8 of the 64 slots and leaves the rest to other targets.
const WEBHOOK_MAX_PER_HOST: OptionSpec<number> = {
  name: '--webhook.max-per-host', valueName: 'N', help: 'delivery attempts in flight at once to one target origin (scheme, host, port)',
  defaultValue: () => 8, parse: integerIn(1, 65536, 'a positive integer up to 65536'),
};
// As many as --server.maximal-queue-size's jobs: a burst of that many completions to a slow receiver
// waits rather than drops; at the 64 KiB cap of a delivery's inline result that is at most 256 MiB.
const WEBHOOK_MAX_QUEUED: OptionSpec<number> = {
  name: '--webhook.max-queued', valueName: 'N',
  help: 'deliveries waiting for a free slot; beyond it the oldest waiting delivery of the busiest origin is dropped (shown as "dropped")',
  defaultValue: () => 4096, parse: integerIn(1, 2 ** 30, 'a positive integer up to 2^30'),
};

const DEMO_HANDLERS: OptionSpec<boolean> = {
  name: '--server.demo-handlers', valueName: 'true|false',
  help: 'also serve /_admin/spin, /_admin/steps, /_admin/fail and /_admin/crash (demonstrations; never for untrusted users)',
  defaultValue: () => false, implicitValue: 'true', parse: parseBoolean,
};
const MAX_QUEUED_PER_USER: OptionSpec<number | undefined> = {
  name: '--server.max-queued-per-user', valueName: 'N',
  help: 'jobs one user may have waiting for a worker (HTTP 429 beyond); 0 for no per-user share',
  defaultValue: () => undefined, defaultText: 'a quarter of --server.maximal-queue-size with authentication on, else none',
  parse: integerIn(0, 2 ** 30, 'an integer from 0 to 2^30'),
};
const MAX_STORED_PER_USER: OptionSpec<number> = {
  name: '--server.max-stored-per-user', valueName: 'N',
  help: 'stored jobs (unfetched results included) one user may have (HTTP 429 beyond); 0 for no limit, as ArangoDB',
  defaultValue: () => 0, parse: integerIn(0, 2 ** 30, 'an integer from 0 to 2^30'),
};
const RATE_LIMIT: OptionSpec<number> = {
  name: '--server.rate-limit', valueName: 'N',
  help: 'jobs one user may submit per second, in bursts of up to N (HTTP 429 beyond); 0 for none',
  defaultValue: () => 0, parse: integerIn(0, 1_000_000, 'an integer from 0 to 1000000'),
};

const LOG_JOBS: OptionSpec<boolean> = {
  name: '--log.jobs', valueName: 'true|false',
  help: 'log one line per job transition: submitted, started, retrying, finished (outcome, duration), cancel requested (reason), expired; also on at --log.level debug',
  defaultValue: () => false, implicitValue: 'true', parse: parseBoolean,
};
const DATABASE_DIRECTORY: OptionSpec<string | undefined> = {
  name: '--database.directory', valueName: 'PATH',
  help: 'keep stored jobs and results in this directory (LMDB): they survive a crash or restart (created if missing)',
  defaultValue: () => undefined, defaultText: '(none: jobs live in memory only)', parse: parsePath,
};
const DATABASE_WAIT_FOR_SYNC: OptionSpec<boolean> = {
  name: '--database.wait-for-sync', valueName: 'true|false',
  help: 'with --database.directory: answer only once writes reached the disk (fsync), so that they survive a power loss too',
  defaultValue: () => false, implicitValue: 'true', parse: parseBoolean,
};
const CLUSTER_REDIS: OptionSpec<string | undefined> = {
  name: '--cluster.redis', valueName: 'URL',
  help: 'join the cluster kept in this Redis (redis://HOST:PORT[/DB]): jobs, queue and cancels shared by every node on it',
  defaultValue: () => undefined, defaultText: '(none: a single server)',
  parse(value, name) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new OptionsError(`${name}: ${JSON.stringify(value)} is not a URL (redis://HOST:PORT[/DB])`);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new OptionsError(`${name}: ${JSON.stringify(value)} is not a redis:// or rediss:// URL`);
    if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) {
      throw new OptionsError(`${name}: ${JSON.stringify(value)}: the path must be a database number (redis://HOST:PORT/0)`);
    }
    return value;
  },
};
const CLUSTER_NODE_ID: OptionSpec<string | undefined> = {
  name: '--cluster.node-id', valueName: 'ID',
  help: 'with --cluster.redis: this node\'s name, unique in the cluster and the same across its restarts (it takes back its unfinished jobs)',
  defaultValue: () => undefined, defaultText: 'HOST:PORT of --server.endpoint',
  parse(value, name) {
    if (!/^[A-Za-z0-9._:@-]{1,100}$/.test(value)) throw new OptionsError(`${name}: ${JSON.stringify(value)}: use 1 to 100 letters, digits and . _ : @ -`);
    return value;
  },
};
const CLUSTER_PREFIX: OptionSpec<string> = {
  name: '--cluster.prefix', valueName: 'NAME',
  help: 'with --cluster.redis: prefix of the cluster\'s Redis keys, so that several clusters share one Redis',
  defaultValue: () => 'aj',
  parse(value, name) {
    if (!/^[A-Za-z0-9._-]{1,50}$/.test(value)) throw new OptionsError(`${name}: ${JSON.stringify(value)}: use 1 to 50 letters, digits and . _ -`);
    return value;
  },
};
// Method syntax in OptionSpec makes `parse` bivariant, so each spec fits this wider type.
const OPTION_SPECS: readonly OptionSpec<unknown>[] = [
  ENDPOINT, THREADS, WORKER_CONCURRENCY, MAXIMAL_QUEUE_SIZE, AUTHENTICATION, JWT_SECRET, USERS,
  AUTH_MAX_FAILURES_PER_ADDRESS, AUTH_MAX_FAILURES_PER_USER, HANDLERS,
  CANCEL_GRACE, JOB_TIMEOUT, MAX_BODY_SIZE, LOG_LEVEL, SHUTDOWN_TIMEOUT, RETENTION, WEBHOOK_ALLOW, WEBHOOK_SECRET,
  WEBHOOK_ALLOW_HTTP, WEBHOOK_CA, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_TIMEOUT, WEBHOOK_MAX_CONCURRENT, WEBHOOK_MAX_PER_HOST, WEBHOOK_MAX_QUEUED,
  DEMO_HANDLERS, MAX_QUEUED_PER_USER, MAX_STORED_PER_USER, RATE_LIMIT,
  DATABASE_DIRECTORY, DATABASE_WAIT_FOR_SYNC, LOG_JOBS, CLUSTER_REDIS, CLUSTER_NODE_ID, CLUSTER_PREFIX,
];
const SPECS_BY_NAME: ReadonlyMap<string, OptionSpec<unknown>> = new Map(OPTION_SPECS.map((spec) => [spec.name, spec]));
const HELP_FLAGS: ReadonlySet<string> = new Set(['--help', '-h']);

/**
 * Parses ArangoDB-style options, `--name value` or `--name=value`.
 * Returns 'help' when --help or -h comes before any error.
 * @throws OptionsError on unknown options, missing or malformed values.
 */
export function parseServerOptions(argv: readonly string[]): ServerOptions | 'help' {
  const values = new Map<OptionSpec<unknown>, unknown>();
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (HELP_FLAGS.has(argument)) return 'help';
    if (!argument.startsWith('--')) throw new OptionsError(`unexpected argument ${JSON.stringify(argument)}`);
    const equals = argument.indexOf('=');
    const name = equals === -1 ? argument : argument.slice(0, equals);
    const spec = SPECS_BY_NAME.get(name);
    if (spec === undefined) throw new OptionsError(`unknown option ${JSON.stringify(name)} (see --help)`);
    if (values.has(spec) && spec.repeatable !== true) throw new OptionsError(`${name}: given more than once`);

    let value: string;
    if (equals !== -1) {
      value = argument.slice(equals + 1);
    } else if (index + 1 < argv.length && !argv[index + 1].startsWith('--')
      && (spec.implicitValue === undefined || BOOLEAN_VALUES.has(argv[index + 1].toLowerCase()))) {
      // A following `--x` is taken for the next option, not a value; such a value needs the `=` form.
      value = argv[++index];
    } else if (spec.implicitValue !== undefined) {
      value = spec.implicitValue;
    } else {
      throw new OptionsError(`${name}: missing value`);
    }
    values.set(spec, spec.parse(value, name, values.has(spec) ? values.get(spec) : spec.defaultValue()));
  }

  const read = <Value>(spec: OptionSpec<Value>): Value =>
    (values.has(spec) ? values.get(spec) : spec.defaultValue()) as Value;
  const endpoint = read(ENDPOINT);
  return {
    host: endpoint.host,
    port: endpoint.port,
    threads: read(THREADS),
    workerConcurrency: read(WORKER_CONCURRENCY),
    maximalQueueSize: read(MAXIMAL_QUEUE_SIZE),
    authentication: read(AUTHENTICATION),
    jwtSecret: read(JWT_SECRET),
    usersFile: read(USERS),
    authMaxFailuresPerAddress: read(AUTH_MAX_FAILURES_PER_ADDRESS),
    authMaxFailuresPerUser: read(AUTH_MAX_FAILURES_PER_USER),
    handlerModules: read(HANDLERS),
    cancelGraceMs: read(CANCEL_GRACE),
    jobTimeoutMs: read(JOB_TIMEOUT),
    maxBodySize: read(MAX_BODY_SIZE),
    logLevel: read(LOG_LEVEL),
    shutdownTimeoutMs: read(SHUTDOWN_TIMEOUT),
    retentionMs: read(RETENTION),
    webhookAllow: read(WEBHOOK_ALLOW),
    webhookSecret: read(WEBHOOK_SECRET),
    webhookMaxAttempts: read(WEBHOOK_MAX_ATTEMPTS),
    webhookAllowHttp: read(WEBHOOK_ALLOW_HTTP),
    webhookCa: read(WEBHOOK_CA),
    demoHandlers: read(DEMO_HANDLERS),
    maxQueuedPerUser: read(MAX_QUEUED_PER_USER),
    maxStoredPerUser: read(MAX_STORED_PER_USER),
    rateLimit: read(RATE_LIMIT),
    webhookTimeoutMs: read(WEBHOOK_TIMEOUT),
    webhookMaxConcurrent: read(WEBHOOK_MAX_CONCURRENT),
    webhookMaxPerHost: read(WEBHOOK_MAX_PER_HOST),
    webhookMaxQueued: read(WEBHOOK_MAX_QUEUED),
    logJobs: read(LOG_JOBS),
    databaseDirectory: read(DATABASE_DIRECTORY),
    databaseWaitForSync: read(DATABASE_WAIT_FOR_SYNC),
    clusterRedis: read(CLUSTER_REDIS),
    clusterNodeId: read(CLUSTER_NODE_ID),
    clusterPrefix: read(CLUSTER_PREFIX),
  };
}

function describeDefault(spec: OptionSpec<unknown>): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const value = spec.defaultValue();
  return value === undefined || (Array.isArray(value) && value.length === 0) ? '(none)' : String(value);
}

/** The --help text: every option with its value placeholder, description and default, in aligned columns. */
export function renderHelp(): string {
  const rows = OPTION_SPECS.map((spec) => [`${spec.name} ${spec.valueName}`, `${spec.help} [default: ${describeDefault(spec)}]`]);
  rows.push(['--help, -h', 'print this help and exit']);
  const width = Math.max(...rows.map(([usage]) => usage.length));
  const lines = rows.map(([usage, description]) => `  ${usage.padEnd(width)}  ${description}`);
  return ['Usage: node dist/server/main.js [options]', '', 'Options (--name value or --name=value):', ...lines, ''].join('\n');
}
