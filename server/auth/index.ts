/** Who is asking: credentials (Basic against the users file, JWT), their cache, the failure throttle and off-thread password checks. */
export { AuthRefusal, Authenticator, UNAUTHORIZED, UsersFileError, hashPassword, readUsersFile, type AuthOutcome, type UserEntry } from './authenticator.js';
export { ANY_OWNER, type Caller } from './caller.js';
