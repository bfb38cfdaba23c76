#!/usr/bin/env node
// npm run profile:paths [-- --rate 9000 --duration 10]
//
// Where an authenticated request's CPU goes, against the logged public route, at the same load:
// the production build (embedded database, README defaults) is started once per path under
// `node --cpu-prof`, pinned to core 0, and loaded by autocannon at a fixed request rate from the
// last core; the last seconds of each profile are split into categories by what is on the stack,
// per request. Writes the profiles and a Markdown table to bench-results/profile-<date>/.
import { execFileSync, spawn } from 'node:child_process';
import { logSink } from './log-sink.mjs';
import { cpus, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const RATE = option('rate', 9000);
const DURATION = option('duration', 10);
const PIN = cpus().length >= 2 && process.platform === 'linux';
const OUT = join(ROOT, 'bench-results', `profile-${new Date().toISOString().replace(/[:.]/g, '-')}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (text) => console.error(`[profile] ${text}`);

async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts the app under the profiler, loads `path` at RATE, stops it; returns the profile's directory and the request count. */
async function profile(label, path, auth) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = join(OUT, label);
  const node = [process.execPath, '--cpu-prof', `--cpu-prof-dir=${dir}`, join(ROOT, 'dist/server/src/main.js')];
  const sink = logSink(PIN);
  const child = spawn(PIN ? 'taskset' : node[0], PIN ? ['-c', '0', ...node] : node.slice(1), {
    cwd: ROOT,
    stdio: ['ignore', sink.stdin, 'ignore'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'profile-app-')),
      LOG_LEVEL: 'info',
      API_KEY_HASH_SECRET: 'profile-hash-secret-0123456789abcdef0123',
      SESSION_SECRET: 'profile-session-secret-0123456789abcdef01',
      CLIENT_DIR: '/nonexistent',
      DEV_USERS: 'alice:alice',
      AUTH_FAILURE_LIMIT: '1000000',
    },
  });
  sink.stdin.destroy(); // the app holds the pipe now; the reader sees its end when the app exits
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {
      /* starting */
    }
    if (i > 300 || child.exitCode !== null) throw new Error('the app did not start');
    await sleep(100);
  }
  const tokenResponse = await fetch(`${url}/realms/dev/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=password&client_id=cli&username=alice&password=alice',
  });
  const jwt = (await tokenResponse.json()).access_token;
  const created = await fetch(`${url}/api/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'profile' }),
  });
  const { key } = await created.json();
  const headers = auth ? ['-H', `authorization=Bearer ${key}`] : [];
  const autocannon = (seconds) =>
    JSON.parse(
      execFileSync(
        PIN ? 'taskset' : join(ROOT, 'node_modules/.bin/autocannon'),
        [
          ...(PIN ? ['-c', String(cpus().length - 1), join(ROOT, 'node_modules/.bin/autocannon')] : []),
          ...['-c', '50', '-d', String(seconds), '-R', String(RATE), '-j', ...headers, url + path],
        ],
        { maxBuffer: 1e8 },
      ).toString(),
    );
  autocannon(3); // warm-up
  const run = autocannon(DURATION);
  log(`${label}: ${Math.round(run.requests.average)} req/s (asked ${RATE}), p99 ${run.latency.p99} ms, non-2xx ${run.non2xx}`);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  return { dir, requests: run.requests.total };
}

/** CPU per request by category, over the profile's last DURATION - 1 seconds (the load, not start or stop). */
function categories({ dir, requests }) {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const windowUs = (DURATION - 1) * 1e6;
  const out = new Map();
  let at = p.startTime;
  let busy = 0;
  let sampled = 0;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (at < p.endTime - windowUs - 0.7e6 || at > p.endTime - 0.7e6) continue;
    const dt = p.timeDeltas[i] ?? 0;
    sampled += dt;
    const stack = [];
    for (let id = p.samples[i]; id !== undefined; id = parent.get(id)) stack.push(byId.get(id).callFrame);
    const leaf = stack[0].functionName;
    if (leaf === '(idle)') continue;
    busy += dt;
    const has = (re) => stack.some((cf) => re.test(`${cf.functionName} ${cf.url}`));
    let category;
    if (['writev', 'writeBuffer', 'writeString', 'writevGeneric'].includes(leaf))
      category = has(/access-log|sonic-boom/) ? 'access line: hand to stdout' : 'kernel writev of the answer';
    else if (leaf === '(garbage collector)') category = 'garbage collector';
    else if (has(/composite-auth\.guard/)) category = 'the guard';
    else if (has(/access-log|sonic-boom/)) category = 'access line: build';
    else if (has(/request-durations|metrics/)) category = 'metrics';
    else if (has(/@nestjs/)) category = 'Nest: router, plumbing, reply, serialiser';
    else if (has(/fastify|find-my-way/)) category = 'Fastify routing, hooks, reply';
    else if (has(/node:_http|node:net|node:internal\/streams|parserOn/)) category = "Node's HTTP parser, headers, socket";
    else category = 'event loop, microtasks, timers, other';
    out.set(category, (out.get(category) ?? 0) + dt);
  }
  // Requests answered in the window, at the measured rate.
  const perRequest = requests * (sampled / (DURATION * 1e6));
  return { out, busy, perRequest };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const paths = [
    ['public', '/api/version', false],
    ['api-key', '/api/keys/current', true],
  ];
  const results = [];
  for (const [label, path, auth] of paths) results.push({ label, path, ...categories(await profile(label, path, auth)) });
  const [a, b] = results;
  const names = [...new Set([...a.out.keys(), ...b.out.keys()])].sort((x, y) => (b.out.get(y) ?? 0) - (b.out.get(x) ?? 0));
  const us = (r, name) => (r.out.get(name) ?? 0) / r.perRequest;
  const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  let md = `# Where a request's CPU goes, ${new Date().toISOString()}\n\nEmbedded database, ${RATE} req/s asked of each path (50 connections), ${PIN ? 'app pinned to core 0' : 'not pinned'}; µs of CPU per request, from \`node --cpu-prof\` over the last ${DURATION - 1} s. Profiles in this directory.\n\n| per request, µs | \`GET ${a.path}\` | \`GET ${b.path}\` (API key) | difference |\n|---|---:|---:|---:|\n`;
  for (const name of names)
    md += `| ${name} | ${us(a, name).toFixed(1)} | ${us(b, name).toFixed(1)} | ${signed(us(b, name) - us(a, name))} |\n`;
  const total = (r) => r.busy / r.perRequest;
  md += `| **total** | **${total(a).toFixed(1)}** | **${total(b).toFixed(1)}** | **${signed(total(b) - total(a))}** |\n`;
  writeFileSync(join(OUT, 'profile.md'), md);
  console.log(md);
}

main().catch((error) => {
  console.error('[profile] failed:', error);
  process.exit(1);
});
