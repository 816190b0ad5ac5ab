/** What `jobs` answers scripts with: its exit status. */
export const ExitCode = {
  /** The operation completed (COMPLETED or COMPLETED_WITH_ERRORS), or the command did what it was asked. */
  ok: 0,
  /** The operation failed, is gone, or the server could not be reached or refused the request. */
  failed: 1,
  /** Unknown command or option, missing or malformed argument. */
  usage: 2,
  /** The operation was cancelled. */
  cancelled: 3,
  /** Ctrl-C (128 + SIGINT, as shells report it). */
  interrupted: 130,
  /** stdout's reader went away (`jobs list | head -1`): 128 + SIGPIPE, as a process killed by it. */
  brokenPipe: 141,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The command line is wrong: `jobs` prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: jobs [global options] <command> [arguments]

Commands:
  submit PATH [--method M] [--body FILE] [--header 'name: value']... [--wait]
                              submit a request as an operation and print its id;
                              the method is GET, or POST with --body (- for stdin);
                              --wait watches it to the end (as watch does)
  watch ID                    a live progress bar, then the outcome
  list [--status S] [--type T] [--limit N]
                              the newest operations (default 20) as a table
  cancel ID [--reason R]      cancel an operation
  logs ID [--follow]          the operation's log; --follow prints new lines until it ends
  result ID                   the job's own answer body

Global options:
  --url URL                   the server (default $JOBS_URL, else http://127.0.0.1:8529)
  --user NAME                 HTTP Basic; the password from $JOBS_PASSWORD, else one line of stdin
  --token JWT                 a bearer token (default $JOBS_TOKEN)
  -h, --help                  this text

Exit status: 0 completed (or done), 1 failed or an error, 2 usage error, 3 cancelled.
`;
