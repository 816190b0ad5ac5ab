import { createClient } from 'redis';

function benchClient(url: string) {
  return createClient({ url });
}
type BenchClient = ReturnType<typeof benchClient>;

/** Commands seen by MONITOR, by command name, split by who sent them. */
export interface MonitorTally {
  readonly fromClients: Record<string, number>;
  readonly fromScripts: Record<string, number>;
  /** Commands scripts called, by the script that called them (named, or the plain EVALSHA). */
  readonly fromScriptsByScript: Record<string, number>;
}

/**
 * Counts the commands Redis runs while it is open, telling those a client sent (each a round
 * trip unless pipelined) from those a Lua script called (MONITOR tags them `[0 lua]`), which
 * commandstats cannot. MONITOR costs Redis a good deal, so the benchmark opens it only in a
 * short window of its own, never while it measures CPU or throughput.
 */
export class RedisMonitor {
  readonly #client: BenchClient;
  readonly #tally: MonitorTally = { fromClients: {}, fromScripts: {}, fromScriptsByScript: {} };
  /** The script whose calls MONITOR lists now: it shows a script's EVALSHA, then each command it calls, nothing in between. */
  #currentScript = '';
  readonly #scriptNames: ReadonlyMap<string, string>;

  private constructor(client: BenchClient, scriptNames: ReadonlyMap<string, string>) {
    this.#client = client;
    this.#scriptNames = scriptNames;
  }

  /** `scriptNames` maps SHA1 to a name, so that EVALSHA calls count per script (`evalsha add`). */
  static async start(url: string, scriptNames: ReadonlyMap<string, string> = new Map()): Promise<RedisMonitor> {
    const client = benchClient(url);
    client.on('error', (error: Error) => process.stderr.write(`bench redis monitor: ${error.message}\n`));
    await client.connect();
    const monitor = new RedisMonitor(client, scriptNames);
    await client.monitor((line: string) => monitor.#count(line));
    return monitor;
  }

  /** Stops monitoring and returns the tally. */
  stop(): MonitorTally {
    this.#client.destroy();
    return this.#tally;
  }

  #count(line: string): void {
    // 1700000000.123456 [0 127.0.0.1:40000] "evalsha" "…" …   or   … [0 lua] "hset" …
    const match = /^\S+ \[\d+ ([^\]]+)\] "([^"]+)"(?: "([^"]+)")?/.exec(line);
    if (match === null) return;
    const bucket = match[1] === 'lua' ? this.#tally.fromScripts : this.#tally.fromClients;
    const command = match[2].toLowerCase();
    const script = command === 'evalsha' && match[3] !== undefined ? this.#scriptNames.get(match[3]) : undefined;
    const name = script === undefined ? command : `${command} ${script}`;
    bucket[name] = (bucket[name] ?? 0) + 1;
    if (match[1] !== 'lua') this.#currentScript = script ?? command;
    else this.#tally.fromScriptsByScript[this.#currentScript] = (this.#tally.fromScriptsByScript[this.#currentScript] ?? 0) + 1;
  }
}
