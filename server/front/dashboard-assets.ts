import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Exchange } from '../http/index.js';

/** Where `npm run build` puts the dashboard (dashboard/ compiled, with client/ and the static files). */
export const DASHBOARD_DIRECTORY = fileURLToPath(new URL('../../ui/', import.meta.url));

/** The dashboard's URL prefix. */
export const DASHBOARD_PATH = '/_admin/dashboard';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/**
 * The page's policy: only its own scripts, styles and connections; no inline script or style,
 * no plugins, no framing, no form posts elsewhere, and Trusted Types with no policy, so that
 * no string ever reaches a markup sink. Job data is shown as text (dashboard/dom.ts); this is
 * the second line.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
  // No markup sink (innerHTML and the like) may take a string: it throws instead of parsing.
  "require-trusted-types-for 'script'", "trusted-types 'none'",
].join('; ');

const SECURITY_HEADERS: readonly string[] = [
  'content-security-policy', DASHBOARD_CSP,
  'x-content-type-options', 'nosniff',
  'referrer-policy', 'no-referrer',
  'x-frame-options', 'DENY',
  'cross-origin-opener-policy', 'same-origin',
];

interface Asset {
  headers: readonly string[];
  body: Buffer;
  etag: string;
}

/**
 * The dashboard's files, read once at start (a few dozen kilobytes) and served from memory at
 * `/_admin/dashboard/`, without authentication: they hold no data (the page logs in and asks
 * the API like any client). Every answer carries the security headers; files are revalidated
 * by ETag (`no-cache`), so a new build shows at the next load.
 */
export class DashboardAssets {
  readonly #assets = new Map<string, Asset>();

  /** The files under `directory`; none (every request a 404 saying so) when it was not built. */
  constructor(directory: string = DASHBOARD_DIRECTORY) {
    if (!existsSync(join(directory, 'index.html'))) return;
    for (const name of readdirSync(directory, { recursive: true, encoding: 'utf8' })) {
      const file = join(directory, name);
      const type = CONTENT_TYPES[extname(name)];
      if (type === undefined || !statSync(file).isFile()) continue; // source maps and declarations stay out
      const body = readFileSync(file);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      const headers = ['content-type', type, 'cache-control', 'no-cache', 'etag', etag, ...SECURITY_HEADERS];
      this.#assets.set(`/${name.split(sep).join('/')}`, { headers, body, etag });
    }
  }

  /** True when the dashboard was built. */
  get available(): boolean {
    return this.#assets.size > 0;
  }

  /** Answers `method` on `rest`, the path after `/_admin/dashboard`. */
  serve(exchange: Exchange, method: string, rest: string, ifNoneMatch: string): void {
    if (rest === '') {
      // Relative URLs in the page resolve against the folder: send a bare prefix there.
      return exchange.send(301, ['location', `${DASHBOARD_PATH}/`, ...SECURITY_HEADERS], null);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      return exchange.send(405, ['allow', 'GET, HEAD', 'content-type', 'text/plain; charset=utf-8', ...SECURITY_HEADERS], 'use GET\n');
    }
    const asset = this.#assets.get(rest === '/' ? '/index.html' : rest);
    if (asset === undefined) {
      const message = this.available ? `no such file: ${DASHBOARD_PATH}${rest}\n` : 'the dashboard is not built: run npm run build\n';
      return exchange.send(404, ['content-type', 'text/plain; charset=utf-8', ...SECURITY_HEADERS], message);
    }
    if (ifNoneMatch !== '' && ifNoneMatch.split(',').some((tag) => tag.trim() === asset.etag)) {
      return exchange.send(304, asset.headers, null);
    }
    exchange.send(200, asset.headers, asset.body);
  }
}

/** True for `/_admin/dashboard` and everything under it. */
export function isDashboardPath(path: string): boolean {
  return path.startsWith(DASHBOARD_PATH) && (path.length === DASHBOARD_PATH.length || path.charCodeAt(DASHBOARD_PATH.length) === 0x2f);
}
