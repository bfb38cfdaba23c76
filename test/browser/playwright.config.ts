import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Browser end-to-end suite: the production build (`npm run build`) on embedded defaults (PGlite,
 * the embedded identity provider), driven through Debian's Chromium — Playwright never downloads
 * a browser here. Screenshots of each state go to test-results/browser (git-ignored).
 */
// Chosen once in the main process (workers inherit the environment), away from common ports.
process.env.BROWSER_TEST_PORT ??= String(40000 + (process.pid % 20000));
const port = Number(process.env.BROWSER_TEST_PORT);
const root = resolve(__dirname, '../..');
process.env.BROWSER_TEST_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'keys-browser-'));

export default defineConfig({
  testDir: '.',
  testMatch: '*.browser-spec.ts',
  outputDir: join(root, 'test-results/browser/artifacts'),
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${port}`,
    locale: 'en-GB',
    timezoneId: 'Europe/Berlin',
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    command: 'node dist/server/src/main.js',
    cwd: root,
    url: `http://localhost:${port}/api/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      PORT: String(port),
      HOST: 'localhost',
      DATA_DIR: process.env.BROWSER_TEST_DATA_DIR,
      LOG_LEVEL: 'warn',
      // So "last used" shows within the test instead of after a minute.
      LAST_USED_WRITE_INTERVAL_MS: '1000',
      // The defaults, and chen, whom only the Chinese-language tests sign in as.
      DEV_USERS: 'alice:alice,bob:bob,admin:admin:api-keys-admin,chen:chen',
    },
  },
});
