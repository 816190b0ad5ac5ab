import { RedisProcess, type RedisProcessOptions } from '../../scripts/redis-process.js';
import { startServer, type ServerProcess } from './server-process.js';

let clusterCount = 0;

/** One Redis and several server binaries joined to a cluster in it, on loopback. */
export class TestCluster {
  /** Replaced by `restartRedis`. */
  redis: RedisProcess;
  readonly nodes: ServerProcess[];
  readonly prefix: string;
  readonly #nodeArgs: readonly string[];

  private constructor(redis: RedisProcess, nodes: ServerProcess[], prefix: string, nodeArgs: readonly string[]) {
    this.redis = redis;
    this.nodes = nodes;
    this.prefix = prefix;
    this.#nodeArgs = nodeArgs;
  }

  /** `nodes` servers named node-a, node-b, ..., each with `nodeArgs`, on a fresh Redis started with `redisOptions`. */
  static async start(nodes: number, nodeArgs: readonly string[] = [], redisOptions: RedisProcessOptions = {}): Promise<TestCluster> {
    const redis = await RedisProcess.start(redisOptions);
    const prefix = `test${process.pid}-${++clusterCount}`;
    const cluster = new TestCluster(redis, [], prefix, nodeArgs);
    try {
      for (let index = 0; index < nodes; index++) await cluster.startNode(index);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The name of node `index`: node-a, node-b, ... */
  nodeId(index: number): string {
    return `node-${String.fromCharCode(97 + index)}`;
  }

  /** Starts (or starts again, after a kill) node `index`; `extraArgs` (`--name value` pairs) override the cluster's node options. */
  async startNode(index: number, extraArgs: readonly string[] = []): Promise<ServerProcess> {
    const overridden = new Set(extraArgs.filter((_, position) => position % 2 === 0));
    const kept: string[] = [];
    for (let position = 0; position + 1 < this.#nodeArgs.length; position += 2) {
      if (!overridden.has(this.#nodeArgs[position])) kept.push(this.#nodeArgs[position], this.#nodeArgs[position + 1]);
    }
    const node = await startServer([
      '--cluster.redis', this.redis.url, '--cluster.node-id', this.nodeId(index), '--cluster.prefix', this.prefix,
      ...kept, ...extraArgs,
    ]);
    this.nodes[index] = node;
    return node;
  }

  /** Kills Redis (SIGKILL, or SIGTERM with `graceful`) if it runs and starts it again on the same port and data (AOF). */
  async restartRedis(options: { graceful?: boolean } = {}): Promise<void> {
    this.redis = await this.redis.restart(options);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop().catch(() => undefined)));
    await this.redis.stop();
  }
}
