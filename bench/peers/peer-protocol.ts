/**
 * The slice of ArangoDB's async execution protocol that both peer servers
 * implement, so they answer byte-for-byte alike and the benchmark compares
 * only how they run jobs. Bodies follow ArangoDB's error shape
 * (`error`, `code`, `errorNum`, `errorMessage`).
 */

/** A finished job's response, kept until a client fetches it. */
export interface JobResult {
  readonly status: number;
  readonly body: string;
}

/**
 * A job submitted with `x-arango-async: store`, as both peers keep it; a
 * fetch removes it once it is done or cancelled. `Pending` is what a peer
 * needs to stop a job that still runs.
 */
export type StoredJob<Pending extends object> =
  | ({ readonly state: 'pending' } & Pending)
  | { readonly state: 'done'; readonly result: JobResult }
  | { readonly state: 'canceled' };

export const CANCELED_JOB = { state: 'canceled' } as const;

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
export const ASYNC_HEADER = 'x-arango-async';
export const ASYNC_ID_HEADER = 'x-arango-async-id';

/** Fetching a cancelled job answers HTTP 410 with errorNum 21, as ArangoDB does. */
export const CANCELED_BODY = '{"error":true,"code":410,"errorNum":21,"errorMessage":"canceled request"}';
export const JOB_NOT_FOUND_BODY = '{"error":true,"code":404,"errorNum":404,"errorMessage":"not found"}';
export const BAD_DURATION_BODY =
  '{"error":true,"code":400,"errorNum":400,"errorMessage":"duration must be a non-negative number of seconds"}';
export const CANCEL_ACCEPTED_BODY = '{"result":true}';

const VERSION_INFO = { server: 'arango', version: '3.12.4', license: 'community' } as const;

/** Runs the `GET /_api/version` handler; serialised per call, like a real handler's result. */
export function versionResult(): JobResult {
  return { status: 200, body: JSON.stringify(VERSION_INFO) };
}

/** The result of `GET /_admin/sleep` once its `durationSeconds` have passed. */
export function sleepResult(durationSeconds: number): JobResult {
  return { status: 200, body: `{"error":false,"code":200,"duration":${durationSeconds}}` };
}

/** Parses the `duration` query parameter of `/_admin/sleep`; undefined when it is not a usable number. */
export function parseSleepSeconds(rawDuration: string | undefined): number | undefined {
  const durationSeconds = Number(rawDuration);
  return rawDuration !== undefined && rawDuration !== '' && Number.isFinite(durationSeconds) && durationSeconds >= 0
    ? durationSeconds
    : undefined;
}

/** Parses a `{job-id}` path segment; undefined for anything that cannot name a job (ArangoDB answers 404). */
export function parseJobId(rawJobId: string): number | undefined {
  const jobId = Number(rawJobId);
  return Number.isSafeInteger(jobId) && jobId > 0 ? jobId : undefined;
}
