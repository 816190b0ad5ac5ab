import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where the browser tests put their screenshots (git-ignored). */
export const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/screenshots/', import.meta.url));

// The page's globals, for the init script that runs in the browser.
declare const document: any, window: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/**
 * The system's Chromium (Debian's `chromium` package: playwright-core downloads no browser),
 * or `CHROMIUM_PATH`; undefined when there is none.
 */
export function chromiumPath(): string | undefined {
  const fromEnvironment = process.env.CHROMIUM_PATH;
  if (fromEnvironment !== undefined && fromEnvironment !== '') return fromEnvironment;
  return CANDIDATES.find((path) => existsSync(path));
}

/**
 * Why the browser tests cannot run here, or undefined when they can. Without a Chromium they
 * are skipped with that reason, except under CI (`.ci/run` installs one), where a missing
 * browser must fail rather than hide the tests.
 */
export function browserMissing(): string | undefined {
  if (chromiumPath() !== undefined) return undefined;
  if (process.env.CI !== undefined && process.env.CI !== '') throw new Error('CI is set but no Chromium was found: install Debian\'s chromium (apt-get install -y chromium) or set CHROMIUM_PATH');
  return 'no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)';
}

export async function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI machines run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * A fresh page (its own context: its own sessionStorage) that fails the test on any script
 * error or CSP violation the page reports: `problems` collects them.
 */
export async function openPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(`console error: ${message.text()}`);
  });
  page.on('dialog', (dialog) => void dialog.accept());
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event: { violatedDirective: string; blockedURI: string }) => {
      window.cspViolations ??= [];
      window.cspViolations.push(`${event.violatedDirective}: ${event.blockedURI}`);
    });
  });
  return { page, problems };
}

/** Saves a screenshot of the page as test-output/screenshots/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
}
