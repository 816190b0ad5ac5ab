import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserMissing, launchBrowser, openPage, screenshot } from './helpers/browser.js';
import { makeUsersFile, type UsersFile } from './helpers/credentials.js';
import { getOperation, submitOperation, type OperationBody } from './helpers/operations.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';

/*
 * The dashboard in a real headless Chromium (Debian's), against the server binary: the
 * overview moving while jobs run, a job appearing with its bar advancing, cancel, retry and
 * delete from its page, try-a-route, a result full of markup that runs nothing, and with
 * authentication on, the login form and another user's jobs out of sight. Each test saves a
 * screenshot under test-output/screenshots/.
 */

// The page's globals, for the callbacks that page.evaluate() and waitForFunction() run in the browser.
declare const document: any, window: any, location: any, sessionStorage: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const skip = browserMissing();
const DASHBOARD = '/_admin/dashboard/';

async function submit(server: ServerProcess, path: string, headers: Record<string, string> = {}): Promise<string> {
  return (await submitOperation(server.url, path, headers)).operationId;
}

async function serverStatus(server: ServerProcess, id: string): Promise<OperationBody & { reason?: string }> {
  return (await getOperation(server.url, id, { prefer: 'return=representation' })).body;
}

/** The page must not have hit a script error or a CSP violation. */
async function assertClean(page: Page, problems: string[]): Promise<void> {
  assert.deepEqual(problems, []);
  assert.deepEqual(await page.evaluate(() => window.cspViolations ?? []), []);
}

describe('dashboard, authentication off', { skip }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let receiver: WebhookReceiver;

  before(async () => {
    receiver = await WebhookReceiver.start();
    [server, browser] = await Promise.all([
      startServer(['--server.threads', '2', '--webhook.allow', `127.0.0.1:${receiver.port}`, '--webhook.allow-http', 'true', '--webhook.secret', 'dashboard-webhooks']),
      launchBrowser(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await receiver?.close();
  });

  test('the overview updates from the server\'s figures while jobs run', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`${server.url}${DASHBOARD}`);
    await page.waitForSelector('main[data-view="overview"] [data-figure="completed"]');
    await page.waitForFunction(() => document.querySelector('[data-figure="completed"]')?.textContent === '0');
    const ids = await Promise.all([1, 2, 3].map(() => submit(server, '/_admin/steps?count=15&ms=100')));
    // While they run: the running card and the submissions chart show them, without a reload.
    await page.waitForFunction(() => Number(document.querySelector('[data-figure="running"]')?.textContent) > 0);
    await page.waitForFunction(() => Number(document.querySelector('[data-chart="rates"] [data-series="submitted"]')?.getAttribute('data-value')) > 0
      || Number(document.querySelector('[data-figure="completed"]')?.textContent) > 0);
    await page.waitForFunction(() => document.querySelector('[data-figure="completed"]')?.textContent === '3', undefined, { timeout: 20_000 });
    const p50 = await page.getAttribute('[data-chart="duration"] [data-series="p50"]', 'data-value');
    assert.ok(Number(p50) > 0.5 && Number(p50) <= 5, `p50 of three 1.5 s jobs: ${p50}`);
    const points = Number(await page.getAttribute('[data-chart="states"]', 'data-points'));
    assert.ok(points >= 2, `the charts grew point by point: ${points}`);
    assert.equal(await page.textContent('[data-figure="workers"]'), '2');
    for (const id of ids) assert.equal((await serverStatus(server, id)).status, 'COMPLETED');
    await screenshot(page, 'overview');
    await assertClean(page, problems);
    await page.context().close();
  });

  test('a submitted job appears in the list and its progress bar advances to the end', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`${server.url}${DASHBOARD}#/jobs`);
    await page.waitForSelector('main[data-view="jobs"] table.jobs');
    const id = await submit(server, '/_admin/steps?count=30&ms=150');
    const row = `tr[data-operation-id="${id}"]`;
    await page.waitForSelector(row);
    const seen = new Set<number>();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const percentage = await page.getAttribute(`${row} progress`, 'data-percentage');
      if (percentage !== null && percentage !== '') seen.add(Number(percentage));
      if ((await page.getAttribute(row, 'data-status')) === 'COMPLETED') break;
      await page.waitForTimeout(100);
    }
    assert.equal(await page.getAttribute(row, 'data-status'), 'COMPLETED');
    const values = [...seen];
    assert.ok(values.filter((value) => value > 0 && value < 100).length >= 2, `the bar moved while it ran: ${values}`);
    assert.deepEqual(values, [...values].sort((a, b) => a - b), 'and only forward');
    assert.equal(await page.getAttribute(`${row} progress`, 'data-percentage'), '100');
    await screenshot(page, 'jobs');
    await assertClean(page, problems);
    await page.context().close();
  });

  test('cancel from the job\'s page ends it CANCELLED on the server; retry runs it again to COMPLETED; delete removes it', async () => {
    const { page, problems } = await openPage(browser);
    const id = await submit(server, '/_admin/steps?count=40&ms=100');
    await page.goto(`${server.url}${DASHBOARD}#/jobs/${id}`);
    await page.waitForSelector(`section.job-detail[data-status="PROCESSING"]`);
    await page.fill('input[name="reason"]', 'not needed <b>now</b>');
    await page.click('button[data-action="cancel"]');
    await page.waitForSelector(`section.job-detail[data-status="CANCELLED"]`);
    const cancelled = await serverStatus(server, id);
    assert.equal(cancelled.status, 'CANCELLED');
    assert.equal(cancelled.reason, 'not needed <b>now</b>');
    assert.equal(await page.textContent('[data-fact="cancel reason"]'), 'not needed <b>now</b>', 'the reason shows as text');
    assert.equal(await page.isDisabled('button[data-action="cancel"]'), true);

    await page.click('button[data-action="retry"]');
    await page.waitForSelector(`section.job-detail[data-status="PROCESSING"]`);
    await page.waitForSelector(`section.job-detail[data-status="COMPLETED"]`, { timeout: 20_000 });
    assert.equal((await serverStatus(server, id)).status, 'COMPLETED');
    await page.waitForFunction(() => (document.querySelector('#result-preview')?.textContent ?? '').includes('"steps": 40'));

    await page.click('button[data-action="delete"]');
    await page.waitForSelector('main[data-view="jobs"] .flash');
    const gone = await fetch(`${server.url}/_api/operations/${id}`);
    assert.ok(gone.status === 410 || gone.status === 404, `deleted: ${gone.status}`);
    await assertClean(page, problems);
    await page.context().close();
  });

  test('a job\'s page shows its log as it grows and its webhook\'s deliveries', async () => {
    const { page, problems } = await openPage(browser);
    const id = await submit(server, '/_admin/report?records=400&ms=5&lines=3', { 'x-callback-url': receiver.url() });
    await page.goto(`${server.url}${DASHBOARD}#/jobs/${id}`);
    await page.waitForFunction(() => document.querySelectorAll('ol.log li').length >= 4, undefined, { timeout: 20_000 });
    await page.waitForSelector('section.job-detail[data-status="COMPLETED"]', { timeout: 20_000 });
    await page.waitForSelector('table.deliveries tr[data-outcome="delivered"]', { timeout: 20_000 });
    assert.match((await page.textContent('div.webhook')) ?? '', /COMPLETED/);
    assert.match((await page.textContent('ol.log')) ?? '', /done/);
    await assertClean(page, problems);
    await page.context().close();
  });

  test('try a route: a result and a reason full of markup show as text and run nothing', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`${server.url}${DASHBOARD}#/try`);
    await page.waitForSelector('form.try');
    const markup = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><b>bold</b>';
    await page.selectOption('select[name="method"]', 'POST');
    await page.fill('input[name="path"]', '/_admin/echo');
    await page.fill('textarea[name="body"]', JSON.stringify({ html: markup }));
    await page.click('form.try button[type="submit"]');
    await page.waitForSelector('section.job-detail[data-status="COMPLETED"]', { timeout: 20_000 });
    await page.waitForFunction(() => (document.querySelector('#result-preview')?.textContent ?? '').includes('onerror'));
    const preview = await page.evaluate(() => {
      const element = document.querySelector('#result-preview')!;
      return {
        text: element.textContent,
        elements: element.querySelectorAll('*').length,
        images: document.querySelectorAll('img').length,
        scripts: [...document.querySelectorAll('script')].map((script: { getAttribute(name: string): string | null }) => script.getAttribute('src')),
        bold: document.querySelectorAll('b').length,
        xss: window.__xss,
      };
    });
    assert.ok(preview.text!.includes('<script>window.__xss=2</script>'), preview.text!);
    assert.equal(preview.elements, 0, 'the preview holds text, no elements');
    assert.equal(preview.images, 0);
    assert.deepEqual(preview.scripts, ['dashboard/main.js'], 'only the page\'s own script');
    assert.equal(preview.bold, 0);
    assert.equal(preview.xss, undefined, 'nothing ran');
    const id = await page.getAttribute('section.job-detail', 'data-operation-id');
    assert.equal((await serverStatus(server, id!)).status, 'COMPLETED');
    await screenshot(page, 'job-detail');
    await assertClean(page, problems);

    // The blocking mode answers in place.
    await page.goto(`${server.url}${DASHBOARD}#/try`);
    await page.fill('input[name="path"]', '/_api/version');
    await page.check('input[name="mode"][value="blocking"]');
    await page.click('form.try button[type="submit"]');
    await page.waitForFunction(() => (document.querySelector('.outcome')?.textContent ?? '').includes('HTTP 200'));
    assert.match((await page.textContent('.outcome')) ?? '', /"server"/);
    await page.context().close();
  });
});

describe('dashboard, authentication on', { skip }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let users: UsersFile;
  const alice = { authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` };
  const bob = { authorization: `Basic ${Buffer.from('bob:bob-pw').toString('base64')}` };

  before(async () => {
    users = await makeUsersFile([{ username: 'alice', password: 'alice-pw' }, { username: 'bob', password: 'bob-pw' }, { username: 'root', password: 'root-pw' }]);
    [server, browser] = await Promise.all([
      startServer(['--server.threads', '1', '--server.authentication', 'true', '--server.users', users.path, '--server.jwt-secret', 'dashboard-test']),
      launchBrowser(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await users?.remove();
  });

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${server.url}${DASHBOARD}#/jobs`);
    await page.waitForSelector('form.login');
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', password);
    await page.click('form.login button[type="submit"]');
  }

  test('login; a user sees only their own jobs, live; the superuser sees everyone\'s and filters by user', async () => {
    const aliceJob = await submit(server, '/_admin/steps?count=20&ms=150', alice);
    const bobJob = await submit(server, '/_admin/steps?count=2&ms=10', bob);
    const { page, problems } = await openPage(browser);

    await logIn(page, 'alice', 'wrong');
    await page.waitForSelector('form.login .notice:not([hidden])');
    assert.match((await page.textContent('form.login .notice')) ?? '', /wrong user name or password/i);
    await page.fill('input[name="password"]', 'alice-pw');
    await page.click('form.login button[type="submit"]');
    await page.waitForSelector(`tr[data-operation-id="${aliceJob}"]`);
    assert.equal(await page.$(`tr[data-operation-id="${bobJob}"]`), null, 'bob\'s job is not in alice\'s list');
    assert.equal(await page.$('input[name="user"]'), null, 'no user filter for a user who is not a superuser');
    const token = await page.evaluate(() => sessionStorage.getItem('arango-jobs.token'));
    assert.match(token ?? '', /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the token is in the tab\'s session storage');
    // Live progress through the WebSocket, authenticated by subprotocol.
    await page.waitForFunction((id) => Number(document.querySelector(`tr[data-operation-id="${id}"] progress`)?.getAttribute('data-percentage')) > 0, aliceJob);
    // Another user's operation by URL is as absent as an unknown one.
    await page.goto(`${server.url}${DASHBOARD}#/jobs/${bobJob}`);
    await page.waitForSelector('section.job-detail[data-status="GONE"]');
    await screenshot(page, 'login-alice');
    // A reload keeps the session (same tab), logging out forgets it.
    await page.reload();
    await page.waitForSelector('main[data-view="job"]');
    await page.click('#who button');
    await page.waitForSelector('form.login');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('arango-jobs.token')), null);
    await assertClean(page, problems.filter((problem) => !/401|404|410/.test(problem)));
    await page.context().close();

    const root = await openPage(browser);
    await logIn(root.page, 'root', 'root-pw');
    await root.page.waitForSelector(`tr[data-operation-id="${bobJob}"]`);
    await root.page.waitForSelector(`tr[data-operation-id="${aliceJob}"]`);
    await root.page.fill('input[name="user"]', 'bob');
    await root.page.click('form.filters button[type="submit"]');
    await root.page.waitForFunction((id) => location.hash.includes('user=bob') && document.querySelector(`tr[data-operation-id="${id}"]`) === null
      && document.querySelectorAll('tr[data-operation-id]').length > 0, aliceJob);
    assert.notEqual(await root.page.$(`tr[data-operation-id="${bobJob}"]`), null);
    await screenshot(root.page, 'login-root');
    await assertClean(root.page, root.problems);
    await root.page.context().close();
  });
});
