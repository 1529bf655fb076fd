import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemo, type Demo } from './app.js';
import { buildServer } from './server.js';
import { startTraffic } from './traffic.js';

// The dashboard in headless Chromium (Debian's `chromium`, installed by .ci/run), driven by
// playwright-core. Without chromium: a loud skip outside CI, a failure under CI=true.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CI = process.env.CI === 'true' || process.env.CI === '1';
const present = existsSync(CHROMIUM);
if (!present) {
  const message = `chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`;
  if (CI) throw new Error(message);
  console.warn(`\n*** SKIPPING the dashboard browser test: ${message} ***\n`);
}
export const SCREENSHOT = fileURLToPath(new URL('../test-results/dashboard.png', import.meta.url));

describe.runIf(present)('dashboard in headless Chromium', () => {
  let demo: Demo;
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let stopTraffic: () => void;

  beforeAll(async () => {
    demo = await createDemo({ short: true, logger: silentLogger() });
    app = await buildServer(demo, { ssePeriodMs: 250 });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    stopTraffic = startTraffic(demo, 100);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url);
  }, 60_000);

  afterAll(async () => {
    stopTraffic?.();
    await browser?.close();
    await app?.close();
    await demo?.close();
  });

  const tile = (name: string) => page.locator(`[data-circuit="${name}"]`);

  it('loads with one tile per circuit, closed', async () => {
    await expect.poll(() => tile('database.postgres').getAttribute('data-state'), { timeout: 15_000 }).toBe('closed');
    expect(await page.locator('[data-circuit]').count()).toBe(demo.registry.breakers().length);
  });

  it('turns a tile open after its break button, and closed again after heal', async () => {
    await tile('database.postgres').locator('button[data-action="break"]').click();
    await expect.poll(() => tile('database.postgres').getAttribute('data-state'), { timeout: 20_000 }).toBe('open');
    mkdirSync(fileURLToPath(new URL('../test-results/', import.meta.url)), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await expect.poll(() => page.locator('#log').textContent()).toContain('database.postgres');
    await tile('database.postgres').locator('button[data-action="heal"]').click();
    await expect.poll(() => tile('database.postgres').getAttribute('data-state'), { timeout: 20_000 }).toBe('closed');
  });
});
