/** Cluster mode (`--cluster.redis`): what nodes share beyond the Redis job store. */
export { ClusterIds } from './cluster-ids.js';
export { ClusterNode, LEASE_MS, type ClusterNodeOptions } from './cluster-node.js';
export { ClusterWatches } from './cluster-watches.js';
