import { createHash } from 'node:crypto';
import { createClient, RESP_TYPES, type RedisClientType } from 'redis';
import { SCRIPTS, type ScriptName } from './redis-scripts.js';

/** A node-redis client (the untyped command surface we use: `sendCommand`). */
export type RedisClient = RedisClientType<{}, {}, {}, 3, {}>;

/** Bulk strings come back as Buffers: results and requests are binary. */
const BINARY = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;

/** A reply element of a script: integers, bulk strings (as Buffers), nil, or nested arrays. */
export type Reply = number | Buffer | null | Reply[];

/** How long a command may wait for Redis before it fails (the request then answers 503). */
const COMMAND_TIMEOUT_MS = 5000;
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
export class RedisConnection {
  readonly client: RedisClient;
  readonly #shas = new Map<ScriptName, string>();
  #reportedOutage = false;

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

  /** Runs one of the store's scripts; `args` follow the prefix the caller passes first. */
  async run(name: ScriptName, args: ReadonlyArray<string | Buffer>): Promise<Reply> {
    const sha = this.#shas.get(name)!;
    try {
      return await this.client.sendCommand<Reply>(['EVALSHA', sha, '0', ...args], { typeMapping: BINARY, timeout: COMMAND_TIMEOUT_MS });
    } catch (error) {
      // A restarted Redis forgot the scripts: load them again and retry once.
      if ((error as Error).message?.startsWith('NOSCRIPT')) {
        await this.#loadScripts();
        return this.run(name, args);
      }
      throw asUnavailable(error);
    }
  }

  /** A plain command, with Buffers for bulk strings. */
  async command(args: ReadonlyArray<string | Buffer>, timeoutMs = COMMAND_TIMEOUT_MS): Promise<Reply> {
    try {
      return await this.client.sendCommand<Reply>(args, { typeMapping: BINARY, timeout: timeoutMs });
    } catch (error) {
      throw asUnavailable(error);
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.close();
    } catch {
      this.client.destroy();
    }
  }

  /** Drops the connection at once (pending commands fail). */
  destroy(): void {
    this.client.destroy();
  }

  async #loadScripts(): Promise<void> {
    try {
      await Promise.all(Object.values(SCRIPTS).map((source) => this.client.sendCommand(['SCRIPT', 'LOAD', source])));
    } catch (error) {
      throw asUnavailable(error);
    }
  }
}

/** node-redis's classes for an error Redis answered (RESP2 and RESP3). */
const REPLY_ERRORS = new Set(['ErrorReply', 'SimpleError', 'BlobError']);

/** Errors Redis itself answered (a script's `error_reply`) stay as they are; losing Redis becomes RedisUnavailableError. */
function asUnavailable(error: unknown): Error {
  if (error instanceof RedisUnavailableError) return error;
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
