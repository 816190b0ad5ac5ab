/** Who is asking: the authenticated user a request runs as. */
export interface Caller {
  username: string;
  /** Sees and manages every user's jobs (ArangoDB's AsyncJobManager lets superusers past its owner check). */
  superuser: boolean;
}

/** The server's own view of a job table: sees every owner's jobs (never given to a client). */
export const ANY_OWNER: Caller = Object.freeze({ username: '', superuser: true });
