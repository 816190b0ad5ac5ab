/** Who is asking: the authenticated user a request runs as. */
export interface Caller {
  username: string;
  /** Sees and manages every user's jobs (ArangoDB's AsyncJobManager lets superusers past its owner check). */
  superuser: boolean;
}
