import { createClient } from 'redis';

function benchClient(url: string) {
  return createClient({ url });
}
type BenchClient = ReturnType<typeof benchClient>;

/** Calls and Redis-side time of one command, from `INFO commandstats`. */
export interface CommandStat {
  readonly calls: number;
  /** Microseconds Redis spent executing it (the command alone: no parsing or network). */
  readonly usec: number;
}

/**
 * What the benchmark reads from Redis itself: `used_memory` for bytes per stored job and
 * `INFO commandstats` for the commands a job costs. Commands that Lua scripts call count in
 * commandstats as well as the EVALSHA that ran them (Redis 7 counts both).
 */
export class RedisInfo {
  readonly #client: BenchClient;

  private constructor(client: BenchClient) {
    this.#client = client;
  }

  static async connect(url: string): Promise<RedisInfo> {
    const client = benchClient(url);
    client.on('error', (error: Error) => process.stderr.write(`bench redis client: ${error.message}\n`));
    await client.connect();
    return new RedisInfo(client);
  }

  /** `used_memory` of `INFO memory`: bytes Redis allocated for data, buffers and scripts. */
  async usedMemory(): Promise<number> {
    const info = await this.#client.info('memory');
    const match = /^used_memory:(\d+)/m.exec(info);
    if (match === null) throw new Error('INFO memory has no used_memory line');
    return Number(match[1]);
  }

  /** Zeroes commandstats (CONFIG RESETSTAT), the start of a window that commandStats() ends. */
  async resetStats(): Promise<void> {
    await this.#client.sendCommand(['CONFIG', 'RESETSTAT']);
  }

  /** Calls per command since the last resetStats(), this client's own INFO and RESETSTAT left out. */
  async commandStats(): Promise<Record<string, CommandStat>> {
    const info = await this.#client.info('commandstats');
    const stats: Record<string, CommandStat> = {};
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      const name = match[1];
      if (name === 'info' || name === 'config|resetstat') continue;
      stats[name] = { calls: Number(match[2]), usec: Number(match[3]) };
    }
    return stats;
  }

  /** One field of a hash, for the cancel part's "which node runs this job". */
  hashField(key: string, field: string): Promise<string | null> {
    return this.#client.hGet(key, field) as Promise<string | null>;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
