#!/usr/bin/env node
// npm run bench [-- --rounds 8 --round-duration 2 --duration 10 --connections 50 --scale --embedded --no-pin]
//
// Loads the production build on PostgreSQL with autocannon. The hot paths — two public
// baselines (unlogged and logged), an API key as Bearer (cache hit), a Keycloak-style JWT,
// X-Session-API-Key, a rate-limited key, and the key path on an instance that does not log — are
// measured in interleaved rounds: every round runs each path once, between two runs of the
// unlogged baseline, a ratio is taken against those two, and the report gives the median over
// rounds. (On this kind of machine the whole VM's speed drifts by half within seconds; a ratio
// to a baseline measured right beside the path holds where one to a baseline 20 s away does
// not.) With two or
// more cores and `taskset`, the app runs on core 0 and the load generator on the last core.
// Then: the cache-miss path, RSS, database writes per 10,000 authenticated requests, RSS with
// 100,000 distinct keys, revocation between two instances; `--scale` adds 1,000,000 keys and
// the key lists. Results: bench-results/ (git-ignored).
import autocannon from 'autocannon';
import { execFileSync, spawn } from 'node:child_process';
import { logSink } from './log-sink.mjs';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] && !args[i + 1].startsWith('--') ? args[i + 1] : fallback;
};
const DURATION = Number(opt('duration', 10));
const CONNECTIONS = Number(opt('connections', 50));
const WARMUP = Number(opt('warmup', 3));
const ROUNDS = Number(opt('rounds', 8));
const ROUND_DURATION = Number(opt('round-duration', 2));
const SCALE = args.includes('--scale');
// The README's defaults: the embedded PGlite (one connection), as `npm start` runs.
const EMBEDDED = args.includes('--embedded');
const CACHE_SIZE = 10_000;
const HASH_SECRET = randomBytes(32).toString('base64url');
const SESSION_SECRET = randomBytes(32).toString('base64url');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[bench]', ...a);

// The key format and hash come from the built server itself, so the bench cannot drift from it.
const require = createRequire(import.meta.url);
const SECRET_MODULE = join(ROOT, 'dist/server/src/credentials/key-format.js');
if (!existsSync(SECRET_MODULE)) {
  console.error('[bench] build first: npm run build:server (npm run bench does it for you)');
  process.exit(2);
}
const { generateKey, hashKey, hintOf } = require(SECRET_MODULE);
const makeKey = () => generateKey('sk-oh-');
const hashOf = (key) => hashKey(key, HASH_SECRET);

// The app on core 0, the load generator (this process) on the last: they no longer take turns
// on the same cores, so a path's figure is the app's, not the scheduler's.
const PIN = !args.includes('--no-pin') && cpus().length >= 2 && existsSync('/usr/bin/taskset') && process.platform === 'linux';
if (PIN) execFileSync('taskset', ['-cp', String(cpus().length - 1), String(process.pid)], { stdio: 'ignore' });

async function freePort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

// --- database
async function database() {
  if (EMBEDDED) return { url: undefined, kind: 'embedded PGlite (--embedded, the README defaults)', stop() {} };
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, kind: 'PostgreSQL server (DATABASE_URL)', stop() {} };
  if (existsSync('/usr/lib/postgresql/15/bin/initdb')) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-pg-'));
    const url = execFileSync(join(ROOT, 'scripts/throwaway-postgres.sh'), ['start', dir, String(await freePort())], {
      encoding: 'utf8',
    }).trim();
    return { url, kind: 'throwaway PostgreSQL 15', stop: () => execFileSync(join(ROOT, 'scripts/throwaway-postgres.sh'), ['stop', dir]) };
  }
  log('WARNING: no DATABASE_URL and no PostgreSQL 15 here: falling back to embedded PGlite (figures are not comparable)');
  return { url: undefined, kind: 'embedded PGlite (fallback)', stop() {} };
}

// --- the app under test, as a process
async function startApp(databaseUrl, extraEnv = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const main = [process.execPath, join(ROOT, 'dist/server/src/main.js')];
  const [command, ...commandArgs] = PIN ? ['taskset', '-c', '0', ...main] : main;
  const sink = logSink(PIN);
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    stdio: ['ignore', sink.stdin, 'ignore'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-app-')),
      // The default: every request writes its access-log line, as in production.
      LOG_LEVEL: 'info',
      API_KEY_HASH_SECRET: HASH_SECRET,
      SESSION_SECRET,
      API_KEY_MAX_PER_USER: '100000',
      AUTH_FAILURE_LIMIT: '1000000',
      AUTH_MAX_CONCURRENT_VERIFICATIONS: '100000',
      KEY_CACHE_MAX_ENTRIES: String(CACHE_SIZE),
      DATABASE_POOL_SIZE: '10',
      CLIENT_DIR: '/nonexistent',
      DEV_USERS: 'alice:alice,bob:bob,carol:carol',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...extraEnv,
    },
  });
  sink.stdin.destroy(); // the app holds the pipe now; the reader sees its end when the app exits
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) return { url, child, pid: child.pid };
    } catch {
      /* starting */
    }
    if (child.exitCode !== null) throw new Error('the app exited during start');
    await sleep(100);
  }
  throw new Error('the app did not start');
}
/** The process's CPU time so far (user + system, all its threads), in microseconds, from /proc. */
const cpuMicros = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return NaN;
  }
};
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

async function token(url, user = 'alice') {
  const res = await fetch(`${url}/realms/dev/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=password&client_id=cli&username=${user}&password=${user}`,
  });
  return (await res.json()).access_token;
}
async function createKey(url, jwt, name, extra = {}) {
  const res = await fetch(`${url}/api/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, ...extra }),
  });
  if (res.status !== 201) throw new Error(`create: ${res.status}`);
  return res.json();
}

/** Inserts `count` keys for `userId` straight into the table (multi-row INSERTs, batched). */
async function seedKeys(db, userId, count, label) {
  const keys = [];
  const batch = 5000;
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    const names = [],
      hashes = [],
      hints = [];
    for (let i = 0; i < n; i++) {
      const key = makeKey();
      if (keys.length < 200_000) keys.push(key);
      names.push(`${label}-${done + i}`);
      hashes.push(hashOf(key));
      hints.push(hintOf(key, 'sk-oh-'));
    }
    await db.query(
      `INSERT INTO api_keys (user_id, name, key_hash, key_hint, scopes)
       SELECT $1, n, h, k, ARRAY['keys:read','keys:write','llm:read','llm:write','mcp'] FROM unnest($2::text[], $3::bytea[], $4::text[]) AS t(n, h, k)`,
      [userId, names, hashes, hints],
    );
    if (count >= 100_000 && (done / batch) % 20 === 0) log(`  seeded ${(done + n).toLocaleString()} / ${count.toLocaleString()}`);
  }
  return keys;
}

async function load(name, url, options) {
  // Each path is warmed up first (JIT, caches, pool), so a path is not penalised for running first.
  await autocannon({ url, connections: CONNECTIONS, duration: WARMUP, ...options });
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, ...options });
  const out = {
    name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
  log(`${name}: ${out.rps} req/s, p50 ${out.p50} ms, p99 ${out.p99} ms, non-2xx ${out.non2xx}`);
  return out;
}
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * The hot paths in interleaved rounds (see the top of this file): each path warmed up, then every
 * round measures each path once, **between two runs of the baseline** (the first path): B, P1, B,
 * P2, B, … On this machine the whole VM's speed drifts within seconds, so a path is compared with
 * the baseline measured just before and just after it (their mean), not with one measured up to
 * twenty seconds away. Rounds alternate direction, so no path always follows the same one. A
 * path's ratio is the median over rounds of its throughput (or the baseline's CPU per request
 * over its own) against that local baseline. `norm` / `normCpu` keep the per-round values
 * against the local baseline, for comparisons between two paths (log cost, like with like).
 */
async function interleaved(paths) {
  for (const path of paths) await autocannon({ url: path.url, headers: path.headers, connections: CONNECTIONS, duration: WARMUP });
  const measure = async (path) => {
    const cpuBefore = cpuMicros(path.pid);
    const result = await autocannon({ url: path.url, headers: path.headers, connections: CONNECTIONS, duration: ROUND_DURATION });
    // The app's own CPU per answered request: unlike req/s, it does not depend on whether the
    // app or the load generator was the bottleneck in that round.
    result.cpuPerRequest = (cpuMicros(path.pid) - cpuBefore) / result.requests.total;
    return result;
  };
  const [base, ...others] = paths;
  const samples = paths.map(() => []);
  /** Per path and round: the mean of the baseline runs on either side, req/s and CPU µs. */
  const local = paths.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    // The rounds outlast an access token (300 s, Keycloak's default): a JWT path gets a fresh one
    // each round, so it never measures refusals (its first request per round is a full check).
    for (const path of paths) if (path.refresh) path.headers = await path.refresh();
    const order = round % 2 ? [...others].reverse() : others;
    let before = await measure(base);
    samples[0].push(before);
    for (const path of order) {
      const i = paths.indexOf(path);
      const result = await measure(path);
      const after = await measure(base);
      samples[0].push(after);
      samples[i].push(result);
      local[i].push({
        rps: (before.requests.average + after.requests.average) / 2,
        cpu: (before.cpuPerRequest + after.cpuPerRequest) / 2,
      });
      before = after;
    }
    log(
      `round ${round + 1}/${ROUNDS}: ` +
        paths.map((p, i) => `${p.id} ${Math.round(samples[i][samples[i].length - 1].requests.average)}`).join(', '),
    );
  }
  return paths.map((path, i) => {
    const perRound = samples[i].map((r) => r.requests.average);
    const cpuPerRound = samples[i].map((r) => r.cpuPerRequest);
    const norm = i === 0 ? perRound.map(() => 1) : perRound.map((rps, round) => rps / local[i][round].rps);
    const normCpu = i === 0 ? cpuPerRound.map(() => 1) : cpuPerRound.map((cpu, round) => cpu / local[i][round].cpu);
    const run = {
      ...path,
      name: path.name,
      rps: Math.round(median(perRound)),
      ratio: +median(norm).toFixed(2),
      range: [Math.round(Math.min(...perRound)), Math.round(Math.max(...perRound))],
      perRound,
      norm,
      cpu_us: +median(cpuPerRound).toFixed(1),
      // What the throughput ratio would be if the app's CPU alone set the pace.
      cpu_ratio: +median(normCpu.map((x) => 1 / x)).toFixed(2),
      cpuPerRound,
      normCpu,
      p50: median(samples[i].map((r) => r.latency.p50)),
      p99: median(samples[i].map((r) => r.latency.p99)),
      max: Math.max(...samples[i].map((r) => r.latency.max)),
      total: samples[i].reduce((sum, r) => sum + r.requests.total, 0),
      non2xx: samples[i].reduce((sum, r) => sum + r.non2xx, 0),
      errors: samples[i].reduce((sum, r) => sum + r.errors, 0),
    };
    delete run.url;
    delete run.headers;
    delete run.refresh;
    delete run.pid;
    return run;
  });
}

const roundRobin = (keys, header = 'authorization', prefix = 'Bearer ') => {
  let i = 0;
  return [
    {
      setupRequest: (req) => {
        req.headers = { ...req.headers, [header]: prefix + keys[i++ % keys.length] };
        return req;
      },
    },
  ];
};

async function writeCounter(db) {
  try {
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await db.query('SELECT count(*) FROM pg_stat_statements');
    return async () =>
      Number(
        (await db.query(`SELECT coalesce(sum(calls), 0)::bigint AS n FROM pg_stat_statements WHERE query ILIKE 'UPDATE api_keys%'`)).rows[0]
          .n,
      );
  } catch {
    return async () => Number((await db.query(`SELECT n_tup_upd AS n FROM pg_stat_user_tables WHERE relname = 'api_keys'`)).rows[0].n);
  }
}

async function main() {
  if (!existsSync(join(ROOT, 'dist/server/src/main.js'))) throw new Error('build first: npm run build:server');
  const db0 = await database();
  const report = {
    date: new Date().toISOString(),
    machine: `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    database: db0.kind,
    duration_s: DURATION,
    warmup_s: WARMUP,
    rounds: ROUNDS,
    round_duration_s: ROUND_DURATION,
    pinned: PIN ? `app on core 0, load generator on core ${cpus().length - 1}` : 'no (client and server share the cores)',
    connections: CONNECTIONS,
    cache_size: CACHE_SIZE,
    runs: [],
  };
  // Embedded: keys can only be made through the API, so a smaller cache makes 2,000 keys misses.
  const A = await startApp(db0.url, EMBEDDED ? { KEY_CACHE_MAX_ENTRIES: '1000' } : {});
  let db;
  try {
    if (db0.url) {
      db = new pg.Client({ connectionString: db0.url });
      await db.connect();
    }
    const jwt = await token(A.url);
    const me = await (await fetch(`${A.url}/api/keys/current`, { headers: { authorization: `Bearer ${jwt}` } })).json();
    const hot = (await createKey(A.url, jwt, 'bench-hot')).key;
    const counter = db ? await writeCounter(db) : async () => NaN;

    log(
      `database: ${db0.kind}; ${ROUNDS} interleaved rounds of ${ROUND_DURATION} s per hot path, ${DURATION} s per other run, ${CONNECTIONS} connections; ` +
        (PIN ? `app on core 0, load generator on core ${cpus().length - 1}` : `client and server share ${cpus().length} cores`),
    );
    // The access log's own cost: the same path on a second instance that logs warnings only.
    const quiet = await startApp(db0.url, { LOG_LEVEL: 'warn' });
    const quietKey = (await createKey(quiet.url, await token(quiet.url), 'bench-quiet')).key;
    // …and a twin of it that does log: how far two instances differ with nothing different between them.
    const twin = await startApp(db0.url, {});
    const twinKey = (await createKey(twin.url, await token(twin.url), 'bench-twin')).key;
    const limited = (await createKey(A.url, jwt, 'bench-limited', { rate_limit_per_minute: 1_000_000 })).key;
    const current = `${A.url}/api/keys/current`;
    const hotPaths = [
      { id: 'baseline', name: 'public baseline, not logged (GET /api/health/live)', url: `${A.url}/api/health/live`, pid: A.pid },
      { id: 'logged', name: 'public route, logged (GET /api/version)', url: `${A.url}/api/version`, pid: A.pid },
      // Like the logged public route, but the request carries the key path's Authorization header
      // (ignored on a public route): what a credential costs the kernel and HTTP parser to receive.
      {
        id: 'logged_with_header',
        name: 'public route, logged, with the same Authorization header (GET /api/version)',
        url: `${A.url}/api/version`,
        headers: { authorization: `Bearer ${hot}` },
        pid: A.pid,
      },
      { id: 'key', name: 'API key, Bearer (cache hit)', url: current, headers: { authorization: `Bearer ${hot}` }, auth: true, pid: A.pid },
      // Right after the key path: the access log's cost compares these two, seconds apart.
      {
        id: 'quiet',
        name: 'API key, Bearer (cache hit), instance with LOG_LEVEL=warn',
        url: `${quiet.url}/api/keys/current`,
        headers: { authorization: `Bearer ${quietKey}` },
        auth: true,
        pid: quiet.pid,
      },
      {
        id: 'twin',
        name: 'API key, Bearer (cache hit), its twin instance with LOG_LEVEL=info',
        url: `${twin.url}/api/keys/current`,
        headers: { authorization: `Bearer ${twinKey}` },
        auth: true,
        pid: twin.pid,
      },
      {
        id: 'jwt',
        name: 'Keycloak-style JWT, Bearer',
        url: current,
        headers: { authorization: `Bearer ${jwt}` },
        refresh: async () => ({ authorization: `Bearer ${await token(A.url)}` }),
        auth: true,
        pid: A.pid,
      },
      { id: 'mcp', name: 'X-Session-API-Key (MCP)', url: current, headers: { 'x-session-api-key': hot }, auth: true, pid: A.pid },
      // A per-key limit (high enough never to refuse): its in-memory count and RateLimit headers.
      {
        id: 'limited',
        name: 'API key with rate_limit_per_minute (cache hit)',
        url: current,
        headers: { authorization: `Bearer ${limited}` },
        auth: true,
        pid: A.pid,
      },
    ];
    const writesBefore = await counter();
    const hotRuns = await interleaved(hotPaths);
    quiet.child.kill('SIGTERM');
    twin.child.kill('SIGTERM');
    const baseline = hotRuns.find((r) => r.id === 'baseline');
    const authenticated = hotRuns.filter((r) => r.auth);
    report.runs.push(...hotRuns.map(({ auth: _auth, ...run }) => run));
    const byId = Object.fromEntries(hotRuns.map((r) => [r.id, r]));
    // Per round (the instances measured seconds apart), then the median.
    const costAgainst = (logged) => +(1 - median(logged.norm.map((x, i) => x / byId.quiet.norm[i]))).toFixed(3);
    report.log_cost = {
      logged_rps: byId.key.rps,
      twin_rps: byId.twin.rps,
      unlogged_rps: byId.quiet.rps,
      cost: costAgainst(byId.key),
      cost_twin: costAgainst(byId.twin),
      // Two instances alike but for their port: the noise floor of any two-instance comparison.
      spread: +Math.abs(
        1 - median(byId.twin.norm.map((x, i) => x / byId.quiet.norm[i])) / median(byId.key.norm.map((x, i) => x / byId.quiet.norm[i])),
      ).toFixed(3),
    };
    // The same comparison in CPU per request, which the load generator's pace does not move.
    const cpuCostAgainst = (logged) => +(1 - median(logged.normCpu.map((x, i) => byId.quiet.normCpu[i] / x))).toFixed(3);
    report.log_cost.cpu_us_logged = byId.key.cpu_us;
    report.log_cost.cpu_us_twin = byId.twin.cpu_us;
    report.log_cost.cpu_us_unlogged = byId.quiet.cpu_us;
    report.log_cost.cpu_cost = cpuCostAgainst(byId.key);
    report.log_cost.cpu_cost_twin = cpuCostAgainst(byId.twin);
    // The authentication's own cost: the key, JWT and MCP paths against the public route that
    // receives the same request (logged, same Authorization header), per round.
    const against = (run, base) => ({
      throughput: +median(run.norm.map((x, i) => x / base.norm[i])).toFixed(2),
      cpu: +median(run.normCpu.map((x, i) => base.normCpu[i] / x)).toFixed(2),
    });
    report.auth_cost = {
      baseline_cpu_us: byId.logged_with_header.cpu_us,
      key: against(byId.key, byId.logged_with_header),
      jwt: against(byId.jwt, byId.logged_with_header),
      mcp: against(byId.mcp, byId.logged_with_header),
      header_cost: against(byId.logged_with_header, byId.logged),
    };
    report.targets = {
      'API key ≥ 0.90': byId.key.ratio,
      'MCP header ≥ 0.90': byId.mcp.ratio,
      'cached JWT ≥ 0.85': byId.jwt.ratio,
      'access log ≤ 5 %': report.log_cost.cost,
      'API key ≥ 0.90 (CPU)': byId.key.cpu_ratio,
      'MCP header ≥ 0.90 (CPU)': byId.mcp.cpu_ratio,
      'cached JWT ≥ 0.85 (CPU)': byId.jwt.cpu_ratio,
      'access log ≤ 5 % (CPU)': report.log_cost.cpu_cost,
    };
    let missKeys = [];
    if (EMBEDDED) {
      // A fresh token: the rounds outlast the development provider's token lifetime.
      const fresh = await token(A.url);
      for (let i = 0; i < 2000; i += 20) {
        const batch = await Promise.all(Array.from({ length: 20 }, (_v, j) => createKey(A.url, fresh, `bench-miss-${i + j}`)));
        missKeys.push(...batch.map((k) => k.key));
      }
      authenticated.push(
        await load(`API key, cache miss (2,000 keys round-robin > cache 1,000; one connection)`, `${A.url}/api/keys/current`, {
          requests: roundRobin(missKeys),
        }),
      );
    }
    if (db) {
      missKeys = await seedKeys(db, me.user_id, CACHE_SIZE * 2, 'bench-miss');
      authenticated.push(
        await load(
          `API key, cache miss (${missKeys.length.toLocaleString()} keys round-robin > cache ${CACHE_SIZE.toLocaleString()})`,
          `${A.url}/api/keys/current`,
          { requests: roundRobin(missKeys) },
        ),
      );
    }
    report.runs.push(...authenticated.filter((run) => !run.auth));

    // Key lists: a user holding 1,000 keys (the seed's plain array) and one 100-key page of it.
    {
      const bobJwt = await token(A.url, 'bob');
      const bob = await (await fetch(`${A.url}/api/keys/current`, { headers: { authorization: `Bearer ${bobJwt}` } })).json();
      if (db) await seedKeys(db, bob.user_id, 1000, 'bob-list');
      else
        for (let i = 0; i < 1000; i += 20)
          await Promise.all(Array.from({ length: 20 }, (_v, j) => createKey(A.url, bobJwt, `bob-list-${i + j}`)));
      const headers = { authorization: `Bearer ${bobJwt}` };
      const whole = await fetch(`${A.url}/api/keys`, { headers });
      const bytes = (await whole.arrayBuffer()).byteLength;
      report.lists = {
        bytes_1000: bytes,
        full_1000: await load('GET /api/keys, 1,000 keys, whole list (10 connections)', `${A.url}/api/keys`, { headers, connections: 10 }),
        page_100: await load('GET /api/keys?limit=100, first page of 1,000 (10 connections)', `${A.url}/api/keys?limit=100`, {
          headers,
          connections: 10,
        }),
        // One client at a time: the page's own latency, without nine others queued in front of it.
        page_100_one: await load('GET /api/keys?limit=100, first page of 1,000 (1 connection)', `${A.url}/api/keys?limit=100`, {
          headers,
          connections: 1,
        }),
      };
    }
    await sleep(1500);
    const writes = (await counter()) - writesBefore;
    const authRequests = authenticated.reduce((s, r) => s + r.total, 0);
    // The single runs after the rounds: their ratio is to the baseline's median.
    for (const run of report.runs) run.ratio ??= +(run.rps / baseline.rps).toFixed(2);
    report.writes = {
      update_statements: writes,
      authenticated_requests: authRequests,
      per_10k: +((writes / authRequests) * 10_000).toFixed(2),
      distinct_keys_used: 1 + missKeys.length,
    };
    report.rss_after_load_mb = +rssMb(A.pid).toFixed(0);

    if (db) {
      // 100,000 distinct keys, each used: the cache stays at its bound, so does memory.
      const many = await seedKeys(db, me.user_id, 100_000, 'bench-100k');
      const before = rssMb(A.pid);
      const run = await load('100,000 distinct keys round-robin', `${A.url}/api/keys/current`, {
        requests: roundRobin(many),
        duration: Math.max(DURATION, 10),
      });
      report.rss_100k = { before_mb: +before.toFixed(0), after_mb: +rssMb(A.pid).toFixed(0), requests: run.total, rps: run.rps };

      // Revocation between two instances.
      const B = await startApp(db0.url, { KEY_CACHE_TTL_MS: '600000' });
      const times = [];
      const carol = await token(A.url, 'carol');
      for (let i = 0; i < 50; i++) {
        const { id, key } = await createKey(A.url, carol, `revoke-${i}`);
        await fetch(`${B.url}/api/keys/current`, { headers: { authorization: `Bearer ${key}` } });
        const t0 = performance.now();
        await fetch(`${A.url}/api/keys/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${carol}` } });
        while ((await fetch(`${B.url}/api/keys/current`, { headers: { authorization: `Bearer ${key}` } })).status !== 401) {
          if (performance.now() - t0 > 5000) break;
        }
        times.push(performance.now() - t0);
      }
      B.child.kill('SIGTERM');
      times.sort((a, b) => a - b);
      report.revocation_ms = {
        p50: +times[24].toFixed(1),
        p99: +times[49].toFixed(1),
        max: +times[49].toFixed(1),
        samples: 50,
        note: 'DELETE on A until B answers 401, including both round trips',
      };

      if (SCALE) {
        // A fresh database, so "1,000 keys" means a table of 1,000 rows. The cache is off: every
        // request is an index lookup, which is what grows with the table.
        await db.query('DROP DATABASE IF EXISTS bench_scale WITH (FORCE)');
        await db.query('CREATE DATABASE bench_scale');
        const scaleUrl = new URL(db0.url);
        scaleUrl.pathname = '/bench_scale';
        const C = await startApp(scaleUrl.href, { KEY_CACHE_MAX_ENTRIES: '0' });
        const sdb = new pg.Client({ connectionString: scaleUrl.href });
        await sdb.connect();
        const small = await seedKeys(sdb, 'bench-scale-small', 1000, 'scale-1k');
        await sdb.query('ANALYZE api_keys');
        const at1k = await load('verify, no cache, 1,000 rows', `${C.url}/api/keys/current`, { requests: roundRobin(small) });
        log('seeding to 1,000,000 rows …');
        await seedKeys(sdb, 'bench-scale-big', 999_000, 'scale-1m');
        await sdb.query('ANALYZE api_keys');
        const at1m = await load('verify, no cache, 1,000,000 rows', `${C.url}/api/keys/current`, { requests: roundRobin(small) });
        // GET /api/keys for a user holding 1,000 keys (fewer connections: each answer is ~200 kB).
        const holderJwt = await token(C.url, 'bob');
        const bob = await (await fetch(`${C.url}/api/keys/current`, { headers: { authorization: `Bearer ${holderJwt}` } })).json();
        await seedKeys(sdb, bob.user_id, 1000, 'bob');
        const list = await load('GET /api/keys, user with 1,000 keys (10 connections)', `${C.url}/api/keys`, {
          headers: { authorization: `Bearer ${holderJwt}` },
          connections: 10,
        });
        report.scale = { at_1k: at1k, at_1m: at1m, p99_ratio: +(at1m.p99 / Math.max(1, at1k.p99)).toFixed(2), list_1000: list };
        C.child.kill('SIGTERM');
        await sdb.end();
      }
    }
  } finally {
    A.child.kill('SIGTERM');
    await db?.end().catch(() => undefined);
    await sleep(500);
    db0.stop();
  }
  return report;
}

function markdown(r) {
  const rows = r.runs
    .map(
      (x) =>
        `| ${x.name} | ${x.rps.toLocaleString()} | ${x.range ? `${x.range[0].toLocaleString()}–${x.range[1].toLocaleString()}` : 'one run'} | ${x.ratio} | ${x.cpu_us ?? ''} | ${x.cpu_ratio ?? ''} | ${x.p50} | ${x.p99} | ${x.max} | ${x.non2xx} |`,
    )
    .join('\n');
  let md = `# Benchmark ${r.date}\n\n${r.machine}; database: ${r.database}; pinned: ${r.pinned}. Hot paths: ${r.warmup_s} s warm-up each, then ${r.rounds} interleaved rounds of ${r.round_duration_s} s per path, each path run between two runs of the baseline (req/s: median and range over rounds; × baseline: median over rounds of the path against the mean of the baseline runs just before and after it). Other runs: ${r.warmup_s} s warm-up, ${r.duration_s} s. ${r.connections} connections (autocannon on loopback); verification cache ${r.cache_size.toLocaleString()} entries.\n\n| path | req/s | range | × baseline | app CPU µs/req | × baseline (CPU) | p50 ms | p99 ms | max ms | non-2xx |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n${rows}\n\nApp CPU µs/req: the app process's user + system time (all threads, from /proc) per answered request, median over rounds; × baseline (CPU) is the local baseline's CPU per request over the path's, per round: the throughput ratio if the app alone set the pace.\n`;
  if (r.targets)
    md += `\nTargets (issue 12): ${Object.entries(r.targets)
      .map(([name, value]) => `${name}: **${name.includes('%') ? `${(value * 100).toFixed(1)} %` : value}**`)
      .join('; ')}.\n`;
  if (r.auth_cost)
    md += `\nLike with like: against the logged public route receiving the same Authorization header (${r.auth_cost.baseline_cpu_us} µs of app CPU per request), the API key path runs at **${r.auth_cost.key.throughput}** (CPU ${r.auth_cost.key.cpu}), the JWT path at **${r.auth_cost.jwt.throughput}** (CPU ${r.auth_cost.jwt.cpu}), the MCP header at **${r.auth_cost.mcp.throughput}** (CPU ${r.auth_cost.mcp.cpu}); receiving the header alone takes the public route to ${r.auth_cost.header_cost.throughput} (CPU ${r.auth_cost.header_cost.cpu}).\n`;
  if (r.lists)
    md += `\nKey lists (a user with 1,000 keys, 10 connections): the whole list (${(r.lists.bytes_1000 / 1024).toFixed(0)} kB) ${r.lists.full_1000.rps} req/s, p50 ${r.lists.full_1000.p50} ms, p99 ${r.lists.full_1000.p99} ms (target ≥ 500 req/s); a 100-key page ${r.lists.page_100.rps} req/s, p50 ${r.lists.page_100.p50} ms, p99 **${r.lists.page_100.p99} ms** (target p99 ≤ 20 ms); the same page for one client at a time p50 ${r.lists.page_100_one.p50} ms, p99 **${r.lists.page_100_one.p99} ms**.\n`;
  if (r.writes)
    md += `\nDatabase writes (\`UPDATE api_keys\`) during the authenticated runs: ${r.writes.update_statements} for ${r.writes.authenticated_requests.toLocaleString()} requests = **${r.writes.per_10k} per 10,000 requests** (${r.writes.distinct_keys_used.toLocaleString()} distinct keys used).\n`;
  if (r.log_cost)
    md += `\nAccess log cost (API key path, LOG_LEVEL=info vs warn on a second instance, measured in the same rounds): ${r.log_cost.logged_rps} vs ${r.log_cost.unlogged_rps} req/s (medians); median of the per-round costs **${(r.log_cost.cost * 100).toFixed(1)} %** of throughput against the main instance, **${(r.log_cost.cost_twin * 100).toFixed(1)} %** against a third instance configured like the main one (${r.log_cost.twin_rps} req/s). Those two logging instances differ by ${(r.log_cost.spread * 100).toFixed(1)} %: a two-instance comparison resolves nothing finer. In app CPU per request: ${r.log_cost.cpu_us_logged} µs logged vs ${r.log_cost.cpu_us_unlogged} µs at warn, a cost of **${(r.log_cost.cpu_cost * 100).toFixed(1)} %** (${(r.log_cost.cpu_cost_twin * 100).toFixed(1)} % against the twin, ${r.log_cost.cpu_us_twin} µs).\n`;
  md += `\nServer RSS after the runs: ${r.rss_after_load_mb} MB.\n`;
  if (r.rss_100k)
    md += `\n100,000 distinct keys used round-robin (${r.rss_100k.requests.toLocaleString()} requests, ${r.rss_100k.rps} req/s): RSS ${r.rss_100k.before_mb} MB before, ${r.rss_100k.after_mb} MB after.\n`;
  if (r.revocation_ms)
    md += `\nRevocation across two instances (delete on A, poll B until 401; ${r.revocation_ms.samples} samples): p50 ${r.revocation_ms.p50} ms, p99 ${r.revocation_ms.p99} ms.\n`;
  if (r.scale)
    md += `\nScale (fresh database, cache off): verification p50/p99 ${r.scale.at_1k.p50}/${r.scale.at_1k.p99} ms at 1,000 rows vs ${r.scale.at_1m.p50}/${r.scale.at_1m.p99} ms at 1,000,000 rows: p99 ratio **${r.scale.p99_ratio}**. GET /api/keys with 1,000 keys: ${r.scale.list_1000.rps} req/s, p50 ${r.scale.list_1000.p50} ms, p99 ${r.scale.list_1000.p99} ms.\n`;
  return md;
}

main()
  .then((report) => {
    const dir = join(ROOT, 'bench-results');
    mkdirSync(dir, { recursive: true });
    const stamp = report.date.replace(/[:.]/g, '-');
    writeFileSync(join(dir, `bench-${stamp}.json`), JSON.stringify(report, null, 2));
    const md = markdown(report);
    writeFileSync(join(dir, `bench-${stamp}.md`), md);
    writeFileSync(join(dir, 'latest.md'), md);
    console.log(md);
    console.table(report.runs.map(({ name, rps, ratio, p50, p99, max }) => ({ name, rps, ratio, p50, p99, max })));
  })
  .catch((error) => {
    console.error('[bench] failed:', error);
    process.exit(1);
  });
