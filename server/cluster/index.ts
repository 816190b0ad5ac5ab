/** Cluster mode (`--cluster.redis`): what nodes share beyond the Redis job store. */
export { ClusterIds } from './cluster-ids.js';
