import { IsolationWorkload, prng } from './support/isolation-workload';
import { LiteLlmStandIn } from './support/litellm-stand-in';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * Isolation between users under concurrency, on whichever database the suite runs against
 * (embedded PGlite under `npm test`, PostgreSQL 15 with TEST_DATABASE_URL in CI). Every response
 * must belong to its caller, and nothing may answer 5xx. ISOLATION_REQUESTS / ISOLATION_ROUNDS
 * scale it up for a longer run; ISOLATION_SEED repeats a run.
 */
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const SEED = Number(process.env.ISOLATION_SEED ?? 20261130);
const REQUESTS = Number(process.env.ISOLATION_REQUESTS ?? 2400);
const ROUNDS = Number(process.env.ISOLATION_ROUNDS ?? 100);
const ENV = {
  DEV_USERS: USERS.map((u) => `${u}:${u}`).join(','),
  // Revoked keys are sent on purpose; the failure limiter is tested elsewhere.
  AUTH_FAILURE_LIMIT: '1000000',
  API_KEY_MAX_PER_USER: '100000',
  LOG_LEVEL: 'warn',
};

describe.each([
  ['embedded LLM keys', false],
  ['LLM keys at a LiteLLM proxy', true],
])('Isolation between users under concurrency, %s (e2e)', (_label, withProxy) => {
  const litellm = new LiteLlmStandIn();
  let app: TestApp;
  let workload: IsolationWorkload;

  beforeAll(async () => {
    if (withProxy) await litellm.start();
    app = await startTestApp(withProxy ? { ...ENV, LITELLM_URL: litellm.url, LITELLM_MASTER_KEY: litellm.masterKey } : ENV);
    workload = new IsolationWorkload(app, USERS, prng(SEED + (withProxy ? 1 : 0)));
    await workload.setUp();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    if (withProxy) await litellm.stop();
  });

  it("never lists another user's keys while an LLM key is being refreshed (the reported reproduction)", async () => {
    const { crossed, serverErrors } = await workload.crossedRounds(withProxy ? ROUNDS / 2 : ROUNDS);
    expect({ crossed, serverErrors }).toEqual({ crossed: 0, serverErrors: 0 });
  }, 60_000);

  it('answers every caller with their own data, across every route and credential, with no 5xx', async () => {
    const total = withProxy ? Math.ceil(REQUESTS / 3) : REQUESTS;
    const report = await workload.run(total, 24);
    expect(report.requests).toBeGreaterThanOrEqual(total);
    // Every kind of operation ran.
    expect(Object.keys(report.byOperation).length).toBeGreaterThanOrEqual(20);
    expect(report.serverErrors.slice(0, 10)).toEqual([]);
    expect(report.violations.slice(0, 10)).toEqual([]);
  }, 90_000);
});
