import { createHash } from 'node:crypto';
import { createClient, RESP_TYPES, type RedisClientType } from 'redis';
import { BATCH_SCRIPT, BATCHED, SCRIPTS, type BatchedScriptName, type ScriptName } from './redis-scripts.js';

/** A node-redis client (the untyped command surface we use: `sendCommand`). */
export type RedisClient = RedisClientType<{}, {}, {}, 3, {}>;

/** Bulk strings come back as Buffers: results and requests are binary. */
const BINARY = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;

/** A reply element of a script: integers, bulk strings (as Buffers), nil, or nested arrays. */
export type Reply = number | Buffer | null | Reply[];

/** How long a command may wait for Redis before it fails (the request then answers 503). */
const COMMAND_TIMEOUT_MS = 5000;
/** How often calls past their deadline are failed. */
const DEADLINE_SWEEP_MS = 250;
/**
 * Batches sent to Redis and not answered yet, at most: while they are out, the calls of later
 * turns gather into the next batch, which goes when one comes back. Under load batches grow
 * with the round trip instead of one per turn; idle, a call goes at once as before.
 */
const MAX_BATCHES_IN_FLIGHT = 1;
/** Reconnect after 50 ms, then twice as long each time, up to 2 s between attempts. */
const RECONNECT_MAX_MS = 2000;

/**
 * Why a call failed: Redis is unreachable, restarting or refused the command. The front answers
 * 503 with `Retry-After` to any request that needed it.
 */
export class RedisUnavailableError extends Error {
  readonly code = 'ERR_STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisUnavailableError';
  }
}

export interface RedisConnectionOptions {
  url: string;
  /** Shown in `CLIENT LIST` (`aj:NODE:purpose`). */
  name: string;
  /** Told every connection error (once per outage, not per retry). */
  onError?: (error: Error) => void;
}

/**
 * One connection to Redis with the store's Lua scripts. Commands made while it is disconnected
 * fail at once (node-redis's offline queue is off), so that a request waiting for Redis does not
 * hang: it answers 503. Commands made in one event-loop turn are written together (node-redis
 * pipelines them), which is what lets the store batch its Redis work per turn.
 */
/** An error a batched script answered for one call (`redis.error_reply`), as Redis would have answered it alone. */
export class ScriptReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScriptReplyError';
  }
}

/** Calls of the batched scripts made in this turn, in order. */
interface Batch {
  args: Array<string | Buffer>;
  /** The first call's script and arguments: a batch of one runs as that script alone. */
  first: { name: BatchedScriptName; args: ReadonlyArray<string | Buffer> };
  calls: Array<{ resolve: (reply: Reply) => void; reject: (error: unknown) => void }>;
}

interface PendingCall {
  readonly deadlineMs: number;
  readonly reject: (error: Error) => void;
}

export class RedisConnection {
  readonly client: RedisClient;
  readonly #shas = new Map<ScriptName, string>();
  readonly #batchSha = createHash('sha1').update(BATCH_SCRIPT).digest('hex');
  #batch: Batch | null = null;
  /** Batches sent and not answered yet: while one is, the next one gathers (see run). */
  #batchesInFlight = 0;
  #reportedOutage = false;
  /**
   * Calls waiting for Redis, failed by one sweep once past their deadline. node-redis's own
   * per-command timeout made an AbortSignal.timeout and a listener for each command: 6 % of a
   * cluster node's main thread under load.
   */
  readonly #pending = new Set<PendingCall>();
  #sweeper: NodeJS.Timeout | null = null;

  private constructor(client: RedisClient) {
    this.client = client;
    for (const [name, source] of Object.entries(SCRIPTS)) {
      this.#shas.set(name as ScriptName, createHash('sha1').update(source).digest('hex'));
    }
  }

  /** Connects (rejects with RedisUnavailableError when Redis cannot be reached) and loads the scripts. */
  static async open(options: RedisConnectionOptions): Promise<RedisConnection> {
    const client = createClient({
      url: options.url,
      name: options.name,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: COMMAND_TIMEOUT_MS,
        reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, RECONNECT_MAX_MS),
      },
    });
    const connection = new RedisConnection(client);
    client.on('error', (error: Error) => {
      if (connection.#reportedOutage) return;
      connection.#reportedOutage = true;
      options.onError?.(error);
    });
    client.on('ready', () => { connection.#reportedOutage = false; });
    try {
      await client.connect();
    } catch (error) {
      client.destroy();
      throw new RedisUnavailableError(`cannot connect to Redis at ${options.url}: ${(error as Error).message}`, { cause: error });
    }
    await connection.#loadScripts();
    return connection;
  }

  get ready(): boolean {
    return this.client.isReady;
  }

  /**
   * Runs one of the store's scripts; `args` start with the key prefix. Calls of the BATCHED
   * scripts go as one (BATCH_SCRIPT): those of one turn, or, while a batch is out, all made
   * until it comes back (MAX_BATCHES_IN_FLIGHT); each caller gets its own reply or error.
   * Calls apply in the order they are made: any other call first sends the open batch.
   */
  run(name: ScriptName, args: ReadonlyArray<string | Buffer>): Promise<Reply> {
    const index = (BATCHED as readonly string[]).indexOf(name);
    if (index < 0) {
      this.#flush();
      return this.#evalsha(this.#shas.get(name)!, args);
    }
    let batch = this.#batch;
    if (batch === null) {
      batch = { args: [args[0]], first: { name: name as BatchedScriptName, args }, calls: [] };
      this.#batch = batch;
      if (this.#batchesInFlight < MAX_BATCHES_IN_FLIGHT) setImmediate(() => this.#flush());
    }
    batch.args.push(String(index), String(args.length - 1));
    for (let position = 1; position < args.length; position++) batch.args.push(args[position]);
    const opened = batch;
    return new Promise((resolve, reject) => opened.calls.push({ resolve, reject }));
  }

  #flush(): void {
    const batch = this.#batch;
    if (batch === null) return;
    this.#batch = null;
    this.#batchesInFlight++;
    const { calls } = batch;
    if (calls.length === 1) {
      this.#evalsha(this.#shas.get(batch.first.name)!, batch.first.args).finally(() => this.#batchAnswered()).then(calls[0].resolve, calls[0].reject);
      return;
    }
    this.#evalsha(this.#batchSha, batch.args).finally(() => this.#batchAnswered()).then((reply) => {
      const answers = reply as Reply[];
      calls.forEach((call, index) => {
        const [ok, value] = answers[index] as [number, Reply];
        if (ok === 1) call.resolve(value ?? null);
        else call.reject(new ScriptReplyError(text(value)));
      });
    }, (error: unknown) => {
      for (const call of calls) call.reject(error);
    });
  }

  /** A batch came back: the one that gathered meanwhile goes now. */
  #batchAnswered(): void {
    this.#batchesInFlight--;
    if (this.#batch !== null && this.#batchesInFlight < MAX_BATCHES_IN_FLIGHT) this.#flush();
  }

  async #evalsha(sha: string, args: ReadonlyArray<string | Buffer>): Promise<Reply> {
    try {
      return await this.#withDeadline(this.client.sendCommand<Reply>(['EVALSHA', sha, '0', ...args], { typeMapping: BINARY }), COMMAND_TIMEOUT_MS);
    } catch (error) {
      // A restarted Redis forgot the scripts: load them again and retry once.
      if ((error as Error).message?.startsWith('NOSCRIPT')) {
        await this.#loadScripts();
        return this.#evalsha(sha, args);
      }
      throw asUnavailable(error);
    }
  }

  /** A plain command, with Buffers for bulk strings. */
  async command(args: ReadonlyArray<string | Buffer>, timeoutMs = COMMAND_TIMEOUT_MS): Promise<Reply> {
    this.#flush();
    try {
      return await this.#withDeadline(this.client.sendCommand<Reply>(args, { typeMapping: BINARY }), timeoutMs);
    } catch (error) {
      throw asUnavailable(error);
    }
  }

  #withDeadline(call: Promise<Reply>, timeoutMs: number): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const pending: PendingCall = { deadlineMs: Date.now() + timeoutMs, reject };
      this.#pending.add(pending);
      if (this.#sweeper === null) {
        this.#sweeper = setInterval(() => this.#sweep(), DEADLINE_SWEEP_MS);
        this.#sweeper.unref();
      }
      call.then((reply) => {
        this.#pending.delete(pending);
        resolve(reply);
      }, (error: unknown) => {
        this.#pending.delete(pending);
        reject(error);
      });
    });
  }

  #sweep(): void {
    const nowMs = Date.now();
    for (const pending of this.#pending) {
      if (pending.deadlineMs > nowMs) continue;
      this.#pending.delete(pending);
      pending.reject(new RedisUnavailableError('Redis did not answer in time'));
    }
  }

  async close(): Promise<void> {
    // Calls gathering behind a batch in flight go before the connection closes.
    this.#flush();
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    try {
      await this.client.close();
    } catch {
      this.client.destroy();
    }
  }

  /** Drops the connection at once (pending commands fail). */
  destroy(): void {
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.client.destroy();
  }

  async #loadScripts(): Promise<void> {
    try {
      await Promise.all([...Object.values(SCRIPTS), BATCH_SCRIPT].map((source) => this.client.sendCommand(['SCRIPT', 'LOAD', source])));
    } catch (error) {
      throw asUnavailable(error);
    }
  }
}

/** node-redis's classes for an error Redis answered (RESP2 and RESP3). */
const REPLY_ERRORS = new Set(['ErrorReply', 'SimpleError', 'BlobError']);

/** Errors Redis itself answered (a script's `error_reply`) stay as they are; losing Redis becomes RedisUnavailableError. */
function asUnavailable(error: unknown): Error {
  if (error instanceof RedisUnavailableError || error instanceof ScriptReplyError) return error;
  if (REPLY_ERRORS.has((error as Error).constructor?.name) && !(error as Error).message.startsWith('LOADING') && !(error as Error).message.startsWith('BUSY')) {
    return error as Error;
  }
  return new RedisUnavailableError(`Redis is unavailable: ${(error as Error).message}`, { cause: error });
}

/** A bulk string reply as text ('' for nil). */
export function text(reply: Reply | undefined): string {
  if (reply === null || reply === undefined) return '';
  return Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply);
}

/** A numeric reply (an integer, or a bulk string holding a number); 0 for nil. */
export function numberOf(reply: Reply | undefined): number {
  if (reply === null || reply === undefined) return 0;
  return typeof reply === 'number' ? reply : Number(text(reply));
}
