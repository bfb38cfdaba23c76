import { importPKCS8, SignJWT } from 'jose';
import { signIn } from './browser-session';
import { call, type CallResult, passwordToken } from './http';
import { devIdpPrivateKeyPem, type TestApp } from './test-app';

/**
 * Several users hammering every route at once, with every answer checked against what its
 * caller owns. Built to catch anything shared between users under concurrency: a database
 * session, a cache entry keyed by the wrong thing, an in-flight promise, a per-request object.
 * Each user's key names start with the user's name; ids, keys and LLM keys are recorded with
 * their owner as soon as a response names them, and any answer that shows another owner's
 * thing is a violation.
 */

/** Small deterministic PRNG (mulberry32), so a failing run can be repeated with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface OwnedKey {
  id: number;
  key: string;
  name: string;
  /** Never sent yet: its first use is a cache miss. */
  fresh: boolean;
}

interface User {
  name: string;
  sub: string;
  jwt: string;
  cookies: Record<string, string>;
  keys: OwnedKey[];
  revoked: string[];
  counter: number;
}

export interface WorkloadReport {
  requests: number;
  byOperation: Record<string, number>;
  violations: string[];
  serverErrors: string[];
}

type Operation = (user: User, others: User[]) => Promise<void>;

export class IsolationWorkload {
  private readonly users: User[] = [];
  private readonly keyOwner = new Map<string, string>();
  private readonly idOwner = new Map<number, string>();
  private readonly llmOwner = new Map<string, string>();
  private readonly report: WorkloadReport = { requests: 0, byOperation: {}, violations: [], serverErrors: [] };
  private signingKey?: CryptoKey;
  private kid = '';

  constructor(
    private readonly app: TestApp,
    private readonly usernames: string[],
    private readonly random: () => number,
  ) {}

  async setUp(): Promise<void> {
    this.signingKey = (await importPKCS8(devIdpPrivateKeyPem(this.app), 'RS256')) as CryptoKey;
    this.kid = (await call(this.app, '/realms/dev/protocol/openid-connect/certs')).body.keys[0].kid;
    for (const name of this.usernames) {
      const jwt = await passwordToken(this.app, name);
      const sub = (await call(this.app, '/api/keys/current', { token: jwt })).body.user_id as string;
      const { jar } = await signIn(this.app, name);
      this.users.push({ name, sub, jwt, cookies: Object.fromEntries(jar.cookies), keys: [], revoked: [], counter: 0 });
    }
    // Every user starts with a few keys, so reads have something to cross.
    for (const user of this.users) for (let i = 0; i < 3; i++) await this.createWithJwt(user);
  }

  /** `total` operations, `concurrency` in flight at any time, users and operations drawn at random. */
  async run(total: number, concurrency: number): Promise<WorkloadReport> {
    let issued = 0;
    const worker = async () => {
      while (issued < total) {
        issued++;
        const user = this.pick(this.users);
        const [name, operation] = this.pickOperation();
        this.report.byOperation[name] = (this.report.byOperation[name] ?? 0) + 1;
        await operation(
          user,
          this.users.filter((u) => u !== user),
        );
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return this.report;
  }

  /**
   * The reported reproduction: bob refreshes his LLM key while alice and bob list their keys
   * at the same moment. Returns the number of rounds in which a list crossed users.
   */
  async crossedRounds(rounds: number): Promise<{ crossed: number; serverErrors: number }> {
    const [alice, bob] = this.users;
    let crossed = 0;
    let serverErrors = 0;
    for (let round = 0; round < rounds; round++) {
      const [refresh, aliceList, bobList] = await Promise.all([
        this.send(bob, '/api/keys/llm/byor/refresh', { method: 'POST', token: bob.jwt }),
        this.send(alice, '/api/keys', { token: alice.jwt }),
        this.send(bob, '/api/keys', { token: bob.jwt }),
      ]);
      serverErrors += [refresh, aliceList, bobList].filter((r) => r.status >= 500).length;
      const foreign = (res: CallResult, owner: User) =>
        res.status === 200 && (res.body as Array<{ name: string }>).some((k) => !k.name.startsWith(`${owner.name}-`));
      if (
        foreign(aliceList, alice) ||
        foreign(bobList, bob) ||
        (refresh.status === 200 && this.claimLlm(bob, refresh.body.key, 'repro refresh'))
      )
        crossed++;
    }
    return { crossed, serverErrors };
  }

  // ---- operations ---------------------------------------------------------------------------

  private readonly operations: Array<[string, number, Operation]> = [
    ['list with JWT', 10, (u) => this.list(u, { token: u.jwt })],
    ['list with API key', 8, (u) => this.withKey(u, (k) => this.list(u, { token: k.key }, k))],
    ['list with session cookie', 4, (u) => this.list(u, { headers: { cookie: this.cookieHeader(u) } })],
    ['create with JWT', 6, (u) => this.createWithJwt(u)],
    ['create with API key', 3, (u) => this.withKey(u, (k) => this.create(u, { token: k.key }, k))],
    [
      'create with session cookie',
      2,
      (u) => this.create(u, { headers: { cookie: this.cookieHeader(u), 'x-xsrf-token': u.cookies['XSRF-TOKEN'] } }),
    ],
    ['delete own key', 5, (u) => this.deleteOwn(u)],
    ["delete another user's key", 2, (u, others) => this.deleteForeign(u, this.pick(others))],
    ['current with fresh key', 6, (u) => this.currentWithKey(u, true)],
    ['current with cached key', 10, (u) => this.currentWithKey(u, false)],
    ['current with MCP header', 5, (u) => this.withKey(u, (k) => this.current(u, { headers: { 'x-session-api-key': k.key } }, k, 'mcp'))],
    ['fresh keys of two users at once', 3, (u, others) => this.freshKeysAtOnce(u, this.pick(others))],
    ['current with JWT', 5, (u) => this.current(u, { token: u.jwt }, undefined, 'jwt')],
    ['current with a new JWT', 3, (u) => this.currentWithNewJwt(u)],
    ['current with cookie needing refresh', 3, (u) => this.currentWithRefreshingCookie(u)],
    ['revoked key refused', 2, (u) => this.revokedRefused(u)],
    ['LLM key get', 7, (u) => this.llm(u, 'GET', '/api/keys/llm/byor')],
    ['LLM key refresh', 4, (u) => this.llm(u, 'POST', '/api/keys/llm/byor/refresh')],
    ['verify API key (gateway)', 5, (u) => this.withKey(u, (k) => this.verify(u, k.key))],
    ['verify LLM key (gateway)', 3, (u) => this.verifyLlm(u)],
  ];

  private async list(user: User, options: Parameters<typeof call>[2], usedKey?: OwnedKey): Promise<void> {
    const res = await this.send(user, '/api/keys', options);
    if (res.status !== 200) return this.unexpected(user, 'list', res, usedKey);
    for (const item of res.body as Array<{ id: number; name: string }>) {
      const owner = this.idOwner.get(item.id);
      if (!item.name.startsWith(`${user.name}-`) || (owner !== undefined && owner !== user.name)) {
        this.violation(`${user.name}'s list holds key ${item.id} "${item.name}" of ${owner ?? 'someone else'}`);
      }
    }
  }

  private createWithJwt(user: User): Promise<void> {
    return this.create(user, { token: user.jwt });
  }

  private async create(user: User, options: Parameters<typeof call>[2], usedKey?: OwnedKey): Promise<void> {
    const name = `${user.name}-${++user.counter}`;
    const res = await this.send(user, '/api/keys', { ...options, method: 'POST', body: { name } });
    if (res.status !== 201) return this.unexpected(user, 'create', res, usedKey);
    if (res.body.name !== name) this.violation(`${user.name} created "${name}" and got back "${res.body.name}"`);
    this.claimId(user, res.body.id, 'create');
    this.keyOwner.set(res.body.key, user.name);
    user.keys.push({ id: res.body.id, key: res.body.key, name, fresh: true });
  }

  private async deleteOwn(user: User): Promise<void> {
    // Keep a few keys around for the other operations.
    if (user.keys.length <= 2) return this.createWithJwt(user);
    const [key] = user.keys.splice(Math.floor(this.random() * user.keys.length), 1);
    const res = await this.send(user, `/api/keys/${key.id}`, { method: 'DELETE', token: user.jwt });
    if (res.status !== 200) return this.unexpected(user, 'delete', res);
    user.revoked.push(key.key);
  }

  private async deleteForeign(user: User, other: User): Promise<void> {
    const target = other.keys[0];
    if (!target) return;
    const res = await this.send(user, `/api/keys/${target.id}`, { method: 'DELETE', token: user.jwt });
    if (res.status !== 404) this.violation(`${user.name} deleting ${other.name}'s key ${target.id} got ${res.status}, not 404`);
  }

  private async currentWithKey(user: User, fresh: boolean): Promise<void> {
    const candidates = user.keys.filter((k) => k.fresh === fresh);
    const key = candidates.length > 0 ? this.pick(candidates) : user.keys[0];
    if (!key) return;
    key.fresh = false;
    await this.current(user, { token: key.key }, key, 'api_key');
  }

  private async current(user: User, options: Parameters<typeof call>[2], key: OwnedKey | undefined, authType: string): Promise<void> {
    const res = await this.send(user, '/api/keys/current', options);
    if (res.status !== 200) return this.unexpected(user, `current (${authType})`, res, key);
    const body = res.body as { id?: number; name?: string; user_id: string; auth_type: string };
    if (body.user_id !== user.sub) this.violation(`${user.name}'s ${authType} credential answered as user ${this.nameOfSub(body.user_id)}`);
    if (body.auth_type !== authType) this.violation(`${user.name}'s ${authType} credential answered auth_type ${body.auth_type}`);
    if (key && (body.id !== key.id || body.name !== key.name))
      this.violation(`${user.name}'s key ${key.id} answered as key ${body.id} "${body.name}"`);
  }

  /** Two users' never-seen keys, each sent twice at once: the in-flight lookups must not mix. */
  private async freshKeysAtOnce(user: User, other: User): Promise<void> {
    const a = user.keys.find((k) => k.fresh);
    const b = other.keys.find((k) => k.fresh);
    if (!a || !b) return this.createWithJwt(user);
    a.fresh = b.fresh = false;
    await Promise.all([
      this.current(user, { token: a.key }, a, 'api_key'),
      this.current(other, { token: b.key }, b, 'api_key'),
      this.current(user, { headers: { 'x-session-api-key': a.key } }, a, 'mcp'),
      this.current(other, { token: b.key }, b, 'api_key'),
    ]);
  }

  private async currentWithNewJwt(user: User): Promise<void> {
    const jwt = await passwordToken(this.app, user.name);
    this.report.requests++;
    await this.current(user, { token: jwt }, undefined, 'jwt');
  }

  /**
   * A session whose access token is about to lapse: the guard renews it with the user's refresh
   * cookie during the request, so concurrent renewals of different users run side by side.
   */
  private async currentWithRefreshingCookie(user: User): Promise<void> {
    const nearlyExpired = await new SignJWT({ typ: 'Bearer', azp: 'console', aud: 'account', preferred_username: user.name })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid })
      .setIssuer(this.app.config.oidc.issuer)
      .setSubject(user.sub)
      .setIssuedAt()
      .setExpirationTime('20s')
      .sign(this.signingKey!);
    const cookies = { ...user.cookies, keycloak_auth: nearlyExpired };
    const res = await this.send(user, '/api/keys/current', {
      headers: {
        cookie: Object.entries(cookies)
          .map(([k, v]) => `${k}=${v}`)
          .join('; '),
      },
    });
    if (res.status !== 200) return this.unexpected(user, 'current (refreshing cookie)', res);
    if (res.body.user_id !== user.sub) this.violation(`${user.name}'s refreshed session answered as ${this.nameOfSub(res.body.user_id)}`);
    const renewed = res.headers.getSetCookie().find((c) => c.startsWith('keycloak_auth='));
    if (!renewed) return this.violation(`${user.name}'s session near expiry was not renewed`);
    const token = renewed.slice('keycloak_auth='.length).split(';')[0];
    const sub = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).sub;
    if (sub !== user.sub) this.violation(`${user.name}'s session was renewed with ${this.nameOfSub(sub)}'s token`);
  }

  private async revokedRefused(user: User): Promise<void> {
    const key = user.revoked.length > 0 ? this.pick(user.revoked) : undefined;
    if (!key) return;
    const res = await this.send(user, '/api/keys/current', { token: key });
    if (res.status !== 401 || res.body?.code !== 'revoked_key')
      this.violation(`${user.name}'s revoked key answered ${res.status} ${res.body?.code}`);
  }

  private async llm(user: User, method: string, path: string): Promise<void> {
    const key = this.random() < 0.4 && user.keys.length > 0 ? this.pick(user.keys) : undefined;
    if (key) key.fresh = false;
    const res = await this.send(user, path, { method, token: key ? key.key : user.jwt });
    if (res.status !== 200) return this.unexpected(user, `${method} ${path}`, res, key);
    this.claimLlm(user, res.body.key, `${method} ${path}`);
  }

  private async verify(user: User, key: string): Promise<void> {
    const res = await this.send(user, '/api/keys/verify', {
      method: 'POST',
      token: this.app.config.verification.serviceToken,
      body: { key },
    });
    if (res.status !== 200) return this.unexpected(user, 'verify', res);
    // A key of this user deleted meanwhile answers REVOKED, still naming its owner.
    if (res.body.user_id !== user.sub)
      this.violation(`verifying ${user.name}'s key answered user ${this.nameOfSub(res.body.user_id)} (${res.body.code})`);
  }

  private async verifyLlm(user: User): Promise<void> {
    const mine = [...this.llmOwner].filter(([, owner]) => owner === user.name).map(([key]) => key);
    if (mine.length === 0) return;
    const res = await this.send(user, '/api/keys/verify', {
      method: 'POST',
      token: this.app.config.verification.serviceToken,
      body: { key: this.pick(mine) },
    });
    if (res.status !== 200) return this.unexpected(user, 'verify LLM key', res);
    // Refreshed-away keys are NOT_FOUND; a valid one must be this user's.
    if (res.body.valid && res.body.user_id !== user.sub)
      this.violation(`verifying ${user.name}'s LLM key answered user ${this.nameOfSub(res.body.user_id)}`);
  }

  private withKey(user: User, use: (key: OwnedKey) => Promise<void>): Promise<void> {
    const candidates = user.keys.filter((k) => !k.fresh);
    const key = candidates.length > 0 ? this.pick(candidates) : user.keys[0];
    if (!key) return this.createWithJwt(user);
    key.fresh = false;
    return use(key);
  }

  // ---- bookkeeping --------------------------------------------------------------------------

  private async send(user: User, path: string, options: Parameters<typeof call>[2]): Promise<CallResult> {
    this.report.requests++;
    const res = await call(this.app, path, options);
    if (res.status >= 500)
      this.report.serverErrors.push(`${user.name} ${options?.method ?? 'GET'} ${path}: ${res.status} ${res.text.slice(0, 200)}`);
    return res;
  }

  /** A key deleted by a concurrent operation of the same user may be refused; nothing else may be. */
  private unexpected(user: User, what: string, res: CallResult, key?: OwnedKey): void {
    if (res.status >= 500) return; // counted by send()
    if (key && res.status === 401 && res.body?.code === 'revoked_key' && user.revoked.includes(key.key)) return;
    if (key && res.status === 401 && res.body?.code === 'revoked_key' && !user.keys.includes(key)) return;
    this.violation(`${user.name} ${what}: unexpected ${res.status} ${res.body?.code ?? ''} ${res.body?.detail ?? ''}`);
  }

  private claimId(user: User, id: number, what: string): void {
    const owner = this.idOwner.get(id);
    if (owner !== undefined && owner !== user.name) this.violation(`${what}: ${user.name} got id ${id}, already ${owner}'s`);
    this.idOwner.set(id, user.name);
  }

  /** Records an LLM key for its user; true when it already belonged to someone else. */
  private claimLlm(user: User, key: string, what: string): boolean {
    const owner = this.llmOwner.get(key);
    if (owner !== undefined && owner !== user.name) {
      this.violation(`${what}: ${user.name} received ${owner}'s LLM key`);
      return true;
    }
    this.llmOwner.set(key, user.name);
    return false;
  }

  private violation(message: string): void {
    this.report.violations.push(message);
  }

  private nameOfSub(sub: string): string {
    return this.users.find((u) => u.sub === sub)?.name ?? String(sub);
  }

  private cookieHeader(user: User): string {
    return Object.entries(user.cookies)
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
  }

  private pick<T>(items: T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private pickOperation(): [string, Operation] {
    const total = this.operations.reduce((sum, [, weight]) => sum + weight, 0);
    let r = this.random() * total;
    for (const [name, weight, operation] of this.operations) {
      r -= weight;
      if (r < 0) return [name, operation];
    }
    const [name, , operation] = this.operations[0];
    return [name, operation];
  }
}
