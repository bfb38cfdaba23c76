import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { call, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

const run = promisify(execFile);
const fixtures = join(__dirname, 'fixtures', 'seed');

/** The first Python 3 on this machine that has `requests`, as the seed's client needs it. */
async function pythonWithRequests(): Promise<string> {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    try {
      await run(candidate, ['-c', 'import requests']);
      return candidate;
    } catch {
      /* try the next */
    }
  }
  throw new Error("The seed's Python example needs python3 with requests (Debian: apt-get install python3-requests); .ci/run installs it.");
}

describe("The seed's own examples, unchanged (e2e)", () => {
  let app: TestApp;
  let token: string;
  beforeAll(async () => {
    app = await startTestApp();
    token = await passwordToken(app, 'alice');
  });
  afterAll(() => app.close());

  it('runs the shell script (自动化脚本使用示例) with BASE_URL and AUTH_TOKEN set', async () => {
    const script = readFileSync(join(fixtures, 'api_key_script.sh'), 'utf8')
      .replace('BASE_URL="https://api.openhands.dev"', `BASE_URL="${app.url}"`)
      .replace('AUTH_TOKEN="your_auth_token_here"', `AUTH_TOKEN="${token}"`);
    const file = join(app.dataDir, 'script.sh');
    writeFileSync(file, script, { mode: 0o700 });
    const { stdout } = await run('bash', [file]);
    expect(stdout).toContain('API密钥创建成功!');
    expect(stdout).toContain('API密钥验证成功!');
    expect(stdout).toContain('{"message":"API key deleted successfully"}');
    expect(stdout).toContain('清理完成');
    const created = /完整密钥: (\S+)/.exec(stdout)![1];
    expect(created).toMatch(/^sk-oh-/);
    // The script deleted its key: it no longer works.
    expect((await call(app, '/api/keys/current', { token: created })).status).toBe(401);
  });

  it('runs the Python client class and its usage example (with a future expiry)', async () => {
    const python = await pythonWithRequests();
    const future = new Date(Date.now() + 30 * 86400e3).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const source = readFileSync(join(fixtures, 'openhands_api_client.py'), 'utf8')
      .replace('OpenHandsAPIClient("https://api.openhands.dev", "your_auth_token")', `OpenHandsAPIClient("${app.url}", "${token}")`)
      .replace('"2024-12-31T23:59:59Z"', `"${future}"`);
    const file = join(app.dataDir, 'client.py');
    writeFileSync(file, source);
    const before = (await call(app, '/api/keys', { token })).body.length;
    const { stdout } = await run(python, [file]);
    expect(stdout).toMatch(/创建的密钥: \{.*'key': 'sk-oh-/);
    expect(stdout).toContain(`'expires_at': '${future.replace('Z', '.000Z')}'`);
    expect(stdout).toContain(`当前密钥数量: ${before + 1}`);
    expect(stdout).toContain('密钥已删除');
    expect((await call(app, '/api/keys', { token })).body.length).toBe(before);
  });
});
