import { JobClient } from '../client/index.js';

const TOKEN_KEY = 'arango-jobs.token';
const USER_KEY = 'arango-jobs.user';

/** Who the page runs as, and the client it asks with. */
export interface Session {
  client: JobClient;
  /** The JWT from the login form; null when the server needs no authentication. */
  token: string | null;
  /** Null without authentication (every request is the superuser root's then). */
  username: string | null;
  /** Sees every user's operations (and may filter by user). */
  superuser: boolean;
}

/** The origin the page was served from: the dashboard talks only to its own server. */
export function serverUrl(): string {
  return location.origin;
}

/**
 * The session kept in this tab (sessionStorage: the token leaves with the tab, and other tabs
 * and sites never see it), checked against the server; null when the server wants a login.
 */
export async function resumeSession(): Promise<Session | null> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const client = new JobClient({ url: serverUrl(), auth: token === null ? undefined : { token } });
  const response = await client.request('GET', '/_api/operations?limit=1');
  if (response.status === 401) {
    forgetSession();
    return null;
  }
  await response.body?.cancel();
  return { client, token, username: token === null ? null : sessionStorage.getItem(USER_KEY), superuser: await isSuperuser(client) };
}

/** `POST /_open/auth` with the form's credentials; the token goes to this tab's sessionStorage. */
export async function logIn(username: string, password: string): Promise<Session> {
  const client = new JobClient({ url: serverUrl() });
  const token = await client.login(username, password);
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(USER_KEY, username);
  return { client, token, username, superuser: await isSuperuser(client) };
}

export function forgetSession(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
}

/**
 * Only a superuser may list another user's operations, so the history answers a question for
 * a user name nobody has (the empty one) with 200 for a superuser and 403 for anyone else.
 */
async function isSuperuser(client: JobClient): Promise<boolean> {
  const response = await client.request('GET', '/_api/operations?limit=1&user=');
  await response.body?.cancel();
  return response.status === 200;
}

/** The WebSocket URL of `path` on this server. */
export function socketUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

/**
 * Subprotocols that authenticate a browser's WebSocket (which cannot send `Authorization`):
 * `arango-jobs`, plus `arango-jobs.bearer.<JWT>` when logged in. The server answers
 * `arango-jobs` only, so the token is never echoed.
 */
export function socketProtocols(session: Session): string[] {
  return session.token === null ? ['arango-jobs'] : ['arango-jobs', `arango-jobs.bearer.${session.token}`];
}
