import { RedisProcess } from '../../scripts/redis-process.js';
import { startServer, type ServerProcess } from './server-process.js';

let clusterCount = 0;

/** One Redis and several server binaries joined to a cluster in it, on loopback. */
export class TestCluster {
  readonly redis: RedisProcess;
  readonly nodes: ServerProcess[];
  readonly prefix: string;
  readonly #nodeArgs: readonly string[];

  private constructor(redis: RedisProcess, nodes: ServerProcess[], prefix: string, nodeArgs: readonly string[]) {
    this.redis = redis;
    this.nodes = nodes;
    this.prefix = prefix;
    this.#nodeArgs = nodeArgs;
  }

  /** `nodes` servers named node-a, node-b, ..., each with `nodeArgs`, on a fresh Redis. */
  static async start(nodes: number, nodeArgs: readonly string[] = []): Promise<TestCluster> {
    const redis = await RedisProcess.start();
    const prefix = `test${process.pid}-${++clusterCount}`;
    const cluster = new TestCluster(redis, [], prefix, nodeArgs);
    try {
      for (let index = 0; index < nodes; index++) cluster.nodes.push(await cluster.startNode(index));
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

  /** Starts (or starts again, after a kill) node `index`. */
  async startNode(index: number, extraArgs: readonly string[] = []): Promise<ServerProcess> {
    const node = await startServer([
      '--cluster.redis', this.redis.url, '--cluster.node-id', this.nodeId(index), '--cluster.prefix', this.prefix,
      ...this.#nodeArgs, ...extraArgs,
    ]);
    this.nodes[index] = node;
    return node;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop().catch(() => undefined)));
    await this.redis.stop();
  }
}
