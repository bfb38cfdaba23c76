import type { DataSource, EntityManager } from 'typeorm';
import { ApiProblem } from '../common/problem';
import { unitTestConfig } from '../config/unit-test-config';
import type { KeyInvalidationService } from '../credentials/key-invalidation.service';
import { parseKey } from '../credentials/key-format';
import type { LastUsedTracker } from '../credentials/last-used.tracker';
import { type KeyPolicy, KeyPolicyService } from '../credentials/key-policy.service';
import type { KeyPolicyRepository, KnownUsersRepository } from '../database/repositories/key-policy.repository';
import type { Principal } from '../credentials/principal';
import type { ApiKeysRepository, NewApiKey } from '../database/repositories/api-keys.repository';
import type { AuditEventsRepository } from '../database/repositories/audit-events.repository';
import { Metrics } from '../metrics/metrics';
import { ApiKeysService } from './api-keys.service';

/** The service's rules with the repository, the database and the core faked. */
function setUp(options: { active?: number; nameTaken?: boolean; revokedHash?: Buffer; policy?: Partial<KeyPolicy> } = {}) {
  const events: string[] = [];
  const tx = {} as EntityManager;
  const inserted: NewApiKey[] = [];
  const repository = {
    lockUser: jest.fn(async () => void events.push('lock')),
    countUsable: jest.fn(async () => options.active ?? 0),
    usableNameExists: jest.fn(async () => options.nameTaken ?? false),
    retireExpiredNamed: jest.fn(async () => undefined),
    insert: jest.fn(async (_tx: EntityManager, key: NewApiKey) => {
      inserted.push(key);
      return { ...key, id: 7, lastUsedAt: null };
    }),
    revoke: jest.fn(async () => {
      events.push('revoke');
      return options.revokedHash && { id: 7, name: 'ci', keyHint: 'sk-oh-…abcd', keyHash: options.revokedHash };
    }),
  };
  const dataSource = {
    transaction: jest.fn(async (work: (tx: EntityManager) => Promise<unknown>) => {
      events.push('begin');
      const result = await work(tx);
      events.push('commit');
      return result;
    }),
    query: jest.fn(async () => [{}]),
  };
  const invalidation = {
    publish: jest.fn(async () => void events.push('publish')),
    evictLocally: jest.fn(() => void events.push('evict')),
  };
  const lastUsed = { pendingUse: jest.fn(() => undefined), forget: jest.fn() };
  const config = unitTestConfig();
  const defaults = new KeyPolicyService(
    config,
    {} as KeyPolicyRepository,
    { onPolicyChange: () => undefined } as unknown as KeyInvalidationService,
  );
  const policy = {
    read: jest.fn(async () => ({ ...defaults.defaults(), ...options.policy })),
    current: () => ({ ...defaults.defaults(), ...options.policy }),
  } as unknown as KeyPolicyService;
  const service = new ApiKeysService(
    dataSource as unknown as DataSource,
    config,
    repository as unknown as ApiKeysRepository,
    invalidation as unknown as KeyInvalidationService,
    lastUsed as unknown as LastUsedTracker,
    { record: jest.fn(async () => void events.push('audit')) } as unknown as AuditEventsRepository,
    new Metrics(),
    policy,
    { remember: jest.fn(async () => undefined) } as unknown as KnownUsersRepository,
  );
  return { service, repository, dataSource, invalidation, events, inserted };
}

const alice: Principal = { userId: 'alice', authType: 'jwt', scopes: ['keys:read', 'keys:write', 'llm:read', 'llm:write', 'mcp'] };

async function problemOf(promise: Promise<unknown>): Promise<ApiProblem['problem']> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiProblem);
  return (error as ApiProblem).problem;
}

describe('ApiKeysService', () => {
  it('creates a key whose hash, not the key, reaches the repository, and shows the key once', async () => {
    const { service, inserted } = setUp();
    const created = await service.create(alice, { name: 'ci' });
    expect(parseKey(created.key, 'sk-oh-').ok).toBe(true);
    expect(inserted).toHaveLength(1);
    expect(JSON.stringify(inserted[0])).not.toContain(created.key);
    expect(inserted[0].keyHash).toHaveLength(32);
    expect(created).toMatchObject({ id: 7, name: 'ci', key_hint: `sk-oh-…${created.key.slice(-4)}`, scopes: alice.scopes });
  });

  it("keeps one caller's who-am-I body per principal, in memory of its own (no slice of Node's shared pool)", () => {
    const { service } = setUp();
    // Bytes decoded just before (a token's, say) must not share the body's memory block.
    const earlier = Buffer.from(Buffer.from('signature-bytes').toString('base64url'), 'base64url');
    const body = service.currentJson(alice);
    expect(body.buffer.byteLength).toBe(body.length);
    expect(body.buffer).not.toBe(earlier.buffer);
    expect(service.currentJson(alice)).toBe(body);
    const bob: Principal = { ...alice, userId: 'bob' };
    expect(JSON.parse(service.currentJson(bob).toString())).toMatchObject({ user_id: 'bob', auth_type: 'jwt' });
    expect(JSON.parse(body.toString())).toMatchObject({ user_id: 'alice' });
  });

  it('refuses a create past the per-user cap with 409 key_limit_reached', async () => {
    const { service, repository } = setUp({ active: 100 });
    expect(await problemOf(service.create(alice, { name: 'one more' }))).toMatchObject({ status: 409, code: 'key_limit_reached' });
    expect(repository.insert).not.toHaveBeenCalled();
  });

  it('refuses a duplicate active name with 409 duplicate_name on the field', async () => {
    const { service } = setUp({ nameTaken: true });
    expect(await problemOf(service.create(alice, { name: 'ci' }))).toMatchObject({
      status: 409,
      code: 'duplicate_name',
      errors: [{ field: 'name' }],
    });
  });

  it('never grants a scope the calling credential lacks', async () => {
    const { service } = setUp();
    const key: Principal = { userId: 'alice', authType: 'api_key', scopes: ['keys:read', 'keys:write'] };
    expect(await problemOf(service.create(key, { name: 'x', scopes: ['llm:read'] }))).toMatchObject({
      status: 403,
      code: 'insufficient_scope',
    });
    expect((await service.create(key, { name: 'y' })).scopes).toEqual(['keys:read', 'keys:write']);
  });

  it('refuses expiry beyond the maximum lifetime and a not_before after expires_at', async () => {
    const { service } = setUp();
    const far = new Date(Date.now() + 400 * 86_400_000).toISOString();
    expect(await problemOf(service.create(alice, { name: 'x', expires_at: far }))).toMatchObject({
      status: 422,
      code: 'invalid_validity_window',
    });
    const soon = new Date(Date.now() + 86_400_000).toISOString();
    const later = new Date(Date.now() + 2 * 86_400_000).toISOString();
    expect(await problemOf(service.create(alice, { name: 'x', expires_at: soon, not_before: later }))).toMatchObject({
      errors: [{ field: 'not_before' }],
    });
  });

  it('gives a new key the policy default scopes the creator holds: never an opt-in (admin) scope', async () => {
    const admin: Principal = { ...alice, scopes: [...alice.scopes, 'admin:read', 'admin:write'], roles: ['api-keys-admin'] };
    const { service } = setUp();
    expect((await service.create(admin, { name: 'default' })).scopes).toEqual(alice.scopes);
    expect((await service.create(admin, { name: 'automation', scopes: ['admin:read'] })).scopes).toEqual(['admin:read']);
    const narrow = setUp({ policy: { defaultScopes: ['keys:read', 'mcp'] } });
    expect((await narrow.service.create(alice, { name: 'narrow' })).scopes).toEqual(['keys:read', 'mcp']);
    const mcpKey: Principal = { userId: 'alice', authType: 'api_key', scopes: ['llm:read'] };
    expect(await problemOf(narrow.service.create(mcpKey, { name: 'none' }))).toMatchObject({ status: 422, errors: [{ field: 'scopes' }] });
  });

  it('applies the stored policy: allowed scopes, required expiry, lifetime and per-user cap', async () => {
    const { service } = setUp({ policy: { allowedScopes: ['keys:read'], expiryRequired: true, maxLifetimeDays: 10, maxKeysPerUser: 5 } });
    expect(await problemOf(service.create(alice, { name: 'x', scopes: ['mcp'] }))).toMatchObject({
      status: 422,
      code: 'validation_failed',
      errors: [{ field: 'scopes' }],
    });
    expect(await problemOf(service.create(alice, { name: 'x', scopes: ['keys:read'], expires_at: null }))).toMatchObject({
      code: 'invalid_validity_window',
    });
    const created = await service.create(alice, { name: 'y', scopes: ['keys:read'] });
    const expires = Date.parse(created.expires_at!);
    expect(expires).toBeGreaterThan(Date.now() + 9.9 * 86_400_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 10 * 86_400_000);
    const full = setUp({ active: 5, policy: { maxKeysPerUser: 5 } });
    expect(await problemOf(full.service.create(alice, { name: 'z' }))).toMatchObject({ status: 409, code: 'key_limit_reached' });
  });

  it('revokes inside a transaction, publishes there, and evicts locally only after commit', async () => {
    const hash = Buffer.alloc(32, 1);
    const { service, events, invalidation } = setUp({ revokedHash: hash });
    await service.revoke('alice', 7);
    expect(events).toEqual(['begin', 'revoke', 'publish', 'audit', 'commit', 'evict']);
    expect(invalidation.publish).toHaveBeenCalledWith(expect.anything(), [hash]);
  });

  it("answers 404 for a key that is not the caller's active key, publishing nothing", async () => {
    const { service, invalidation } = setUp();
    expect(await problemOf(service.revoke('alice', 99))).toMatchObject({ status: 404, code: 'api_key_not_found' });
    expect(invalidation.publish).not.toHaveBeenCalled();
    expect(invalidation.evictLocally).not.toHaveBeenCalled();
  });
});
