import { createNodeRedisClient, RedisConnection, type RedisOptions } from 'bullmq';
import { createClient } from 'redis';

/**
 * BullMQ 6 loads ioredis unless told otherwise; this project has node-redis (`redis` 6), which
 * BullMQ supports through its adapter: RedisConnection.clientFactory, the way its
 * redis-connection.d.ts documents, makes every connection BullMQ opens (the queue's, each
 * blocking worker and events reader) a node-redis client of `connection.url`.
 */
export function useNodeRedisForBullmq(): void {
  RedisConnection.clientFactory = (options: RedisOptions) => {
    if (options.url === undefined) throw new TypeError('the BullMQ benchmark connects with { url }');
    return createNodeRedisClient(createClient({ url: options.url }));
  };
}

/** Names shared by the producers (bench/cluster/bullmq-run.ts) and the worker process. */
export const BULLMQ_QUEUE = 'bench';
export const BULLMQ_PREFIX = 'bull';

/** What the worker returns: the body of our `GET /_api/version`, so that both store the same result. */
export const VERSION_RESULT = { server: 'arango', version: '3.12.0', license: 'community' } as const;
