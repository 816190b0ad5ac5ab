import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { makeUsersFile, type UsersFile } from './helpers/credentials.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

/*
 * How the server serves the dashboard's files (no browser needed): without credentials even
 * with authentication on (they hold no data), with a strict CSP on every answer, revalidated
 * by ETag; and the built scripts use no markup sink at all.
 */

const UI = fileURLToPath(new URL('../ui/', import.meta.url));
let server: ServerProcess;
let users: UsersFile;

before(async () => {
  users = await makeUsersFile([{ username: 'alice', password: 'alice-pw' }]);
  server = await startServer(['--server.threads', '1', '--server.authentication', 'true', '--server.users', users.path, '--server.jwt-secret', 'assets-test']);
});
after(async () => {
  await server?.stop();
  await users?.remove();
});

test('the page and its scripts load without credentials, with a strict CSP; the API still wants them', async () => {
  const page = await fetch(`${server.url}/_admin/dashboard/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const csp = page.headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"]) {
    assert.ok(csp.includes(directive), `${directive} in ${csp}`);
  }
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  const html = await page.text();
  assert.doesNotMatch(html, /<script>(?!<)|<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=/i, 'no inline script or handler in the page');
  assert.doesNotMatch(html, /https?:\/\//, 'nothing from another origin (no CDN)');

  const script = await fetch(`${server.url}/_admin/dashboard/dashboard/main.js`);
  assert.equal(script.status, 200);
  assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
  const client = await fetch(`${server.url}/_admin/dashboard/client/index.js`);
  assert.equal(client.status, 200, 'the typed client ships with the page');

  const api = await fetch(`${server.url}/_api/operations`);
  assert.equal(api.status, 401);
});

test('a bare prefix redirects into the folder; unknown files are 404, other methods 405; ETag revalidates', async () => {
  const bare = await fetch(`${server.url}/_admin/dashboard`, { redirect: 'manual' });
  assert.equal(bare.status, 301);
  assert.equal(bare.headers.get('location'), '/_admin/dashboard/');
  const missing = await fetch(`${server.url}/_admin/dashboard/nope.js`);
  assert.equal(missing.status, 404);
  assert.ok(missing.headers.get('content-security-policy'));
  const traversal = await fetch(`${server.url}/_admin/dashboard/../server/main.js`);
  assert.notEqual(traversal.status, 200);
  const posted = await fetch(`${server.url}/_admin/dashboard/`, { method: 'POST', body: 'x' });
  assert.equal(posted.status, 405);
  assert.equal(posted.headers.get('allow'), 'GET, HEAD');
  const first = await fetch(`${server.url}/_admin/dashboard/dashboard.css`);
  const etag = first.headers.get('etag');
  assert.match(etag ?? '', /^".+"$/);
  assert.equal(first.headers.get('cache-control'), 'no-cache');
  const again = await fetch(`${server.url}/_admin/dashboard/dashboard.css`, { headers: { 'if-none-match': etag! } });
  assert.equal(again.status, 304);
});

test('no built dashboard script writes markup (innerHTML, outerHTML, insertAdjacentHTML, document.write)', async () => {
  const files = (await readdir(UI, { recursive: true })).filter((name) => name.endsWith('.js')).map((name) => join(UI, name));
  assert.ok(files.length >= 5, `the built scripts: ${files}`);
  for (const file of files) {
    // Code only: the comments that say what is never used name it.
    const text = (await readFile(file, 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    assert.doesNotMatch(text, /\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(/, file);
  }
});
