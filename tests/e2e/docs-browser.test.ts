import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { ROUTES } from '../../lib/routes';
import { findBrowser, HOW_TO_ENABLE_BROWSER } from '../../scripts/lib/browser';
import { type Offline, startOffline } from '../../scripts/lib/offline';
import { skipWithout } from '../support/requires';

/**
 * The docs page in a real browser (Chromium or Chrome, headless) against the real bundles served by
 * serverless-offline: it renders every endpoint and loads nothing from any other host.
 *
 * The browser is found by scripts/lib/browser.ts (CHROME_PATH, PATH, macOS apps). Without one this
 * test is skipped with one line saying so, except with CI=true, where it runs and fails.
 */
const BROWSER = findBrowser();
const SKIP = skipWithout(
  BROWSER !== undefined,
  'the docs browser test',
  `no browser found; to run it, ${HOW_TO_ENABLE_BROWSER}`,
);
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const SCREENSHOT = join(ARTIFACTS, 'docs.png');

let offline: Offline | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (SKIP) return;
  if (!BROWSER) throw new Error(`CI=true and no browser found: ${HOW_TO_ENABLE_BROWSER} (.ci/run installs chromium)`);
  offline = await startOffline({ databaseUrl: inject('databaseUrl') });
  browser = await chromium.launch({
    executablePath: BROWSER.path,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await offline?.stop();
});

describe.skipIf(SKIP)('GET /docs in a browser', () => {
  it('shows every endpoint, requests nothing outside this service, and is captured as test-artifacts/docs.png', async () => {
    if (!browser || !offline) throw new Error('setup failed');
    const base = new URL(offline.baseUrl);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requested: string[] = [];
    const problems: string[] = [];
    page.on('request', (req) => requested.push(req.url()));
    page.on('requestfailed', (req) => problems.push(`failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));

    const response = await page.goto(`${offline.baseUrl}/docs`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');

    // Swagger UI renders one .opblock per operation once it has fetched /openapi.json. (A locator,
    // not waitForFunction: the page's CSP forbids the eval that the latter needs.)
    await page
      .locator('.opblock')
      .nth(ROUTES.length - 1)
      .waitFor({ timeout: 30_000 });
    const shown = await page.$$eval('.opblock', (blocks) =>
      blocks.map((b) => {
        const method = b.querySelector('.opblock-summary-method')?.textContent?.trim() ?? '';
        const path = b.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '';
        return `${method} ${path}`;
      }),
    );
    expect(shown.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    await expect(page.title()).resolves.toBe('Shop API reference');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);

    const elsewhere = requested.filter((u) => {
      const url = new URL(u);
      return !(url.protocol === 'data:' || (url.hostname === base.hostname && url.port === base.port));
    });
    expect(elsewhere).toEqual([]);
    expect(requested).toEqual(
      expect.arrayContaining([
        `${offline.baseUrl}/docs`,
        `${offline.baseUrl}/docs/swagger-ui.css`,
        `${offline.baseUrl}/docs/swagger-ui-bundle.js`,
        `${offline.baseUrl}/docs/docs-init.js`,
        `${offline.baseUrl}/openapi.json`,
      ]),
    );
    expect(problems).toEqual([]);
    await page.close();
  });
});
