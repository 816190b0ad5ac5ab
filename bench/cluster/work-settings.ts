/** How the cluster benchmark loads both systems: the same for ours and BullMQ. */
export interface WorkSettings {
  readonly redisUrl: string;
  /** Concurrent producers, each adding a job and waiting for its result before the next. */
  readonly producers: number;
  readonly warmupSeconds: number;
  /** The measured window. */
  readonly seconds: number;
  /** The extra window with MONITOR on, for the commands per job by sender. */
  readonly monitorSeconds: number;
  /** Jobs stored (and left unread) for the Redis memory per job. */
  readonly storedJobs: number;
}
