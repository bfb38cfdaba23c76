import type { DataSource, EntityManager } from 'typeorm';
import { deriveKey, seal } from '../common/sealed';
import { unitTestConfig } from '../config/unit-test-config';
import type { KeyInvalidationService } from '../credentials/key-invalidation.service';
import type { AuditEventsRepository } from '../database/repositories/audit-events.repository';
import { KeyVerifier } from '../credentials/key-verifier.service';
import type { LlmKeysRepository, LlmKeyValues, StoredLlmKey } from '../database/repositories/llm-keys.repository';
import type { LiteLlmClient } from './litellm.client';
import { LlmKeysService } from './llm-keys.service';

const embeddedConfig = unitTestConfig();

const serverConfig = unitTestConfig({ DATABASE_URL: 'postgres://db.example/keys' });
const config = embeddedConfig;

/** The LLM key rules with the repository, the gateway and the database faked. */
function setUp(stored: StoredLlmKey | null, gateway: Partial<LiteLlmClient> = { enabled: false }, appConfig = serverConfig) {
  const events: string[] = [];
  const writes: Array<{ op: string; values: LlmKeyValues }> = [];
  const repository = {
    lockUser: jest.fn(async () => void events.push('lock')),
    findByUser: jest.fn(async () => stored),
    wasRetired: jest.fn(async () => false),
    insert: jest.fn(async (_tx: EntityManager, _user: string, values: LlmKeyValues) => void writes.push({ op: 'insert', values })),
    replace: jest.fn(async (_tx: EntityManager, _id: number, values: LlmKeyValues) => void writes.push({ op: 'replace', values })),
  };
  const dataSource = {
    transaction: async (work: (tx: EntityManager) => Promise<unknown>) => {
      events.push('begin');
      const result = await work({} as EntityManager);
      events.push('commit');
      return result;
    },
  };
  const invalidation = {
    publish: jest.fn(async () => void events.push('publish')),
    evictLocally: jest.fn(() => void events.push('evict')),
  };
  // Only `hash` is used here: the real keyed hash, without cache or database.
  const verifier = new KeyVerifier(config, null!, null!, null!, null!, null!);
  const service = new LlmKeysService(
    repository as unknown as LlmKeysRepository,
    dataSource as unknown as DataSource,
    appConfig,
    gateway as LiteLlmClient,
    verifier,
    invalidation as unknown as KeyInvalidationService,
    { record: jest.fn(async () => void events.push('audit')) } as unknown as AuditEventsRepository,
  );
  return { service, repository, invalidation, events, writes, verifier };
}

function storedKey(key: string, verifier: KeyVerifier): StoredLlmKey {
  return {
    id: 3,
    userId: 'alice',
    keyCiphertext: seal(key, deriveKey(config.llmKeys.encryptionKey, 'llm-keys')),
    keyHash: verifier.hash(key),
    keyHint: 'x',
    source: 'embedded',
  };
}

describe('LlmKeysService', () => {
  it('provisions an embedded key on first use, stored encrypted with its keyed hash', async () => {
    const { service, writes, verifier } = setUp(null);
    const key = await service.get('alice');
    expect(key).toMatch(/^sk-oh-llm-/);
    expect(writes).toHaveLength(1);
    expect(writes[0].op).toBe('insert');
    expect(writes[0].values.keyCiphertext).not.toContain(key);
    expect(writes[0].values.keyHash.equals(verifier.hash(key))).toBe(true);
  });

  it('hands out the stored key again without writing', async () => {
    const probe = setUp(null);
    const existing = storedKey('sk-oh-llm-existing', probe.verifier);
    const { service, writes } = setUp(existing);
    expect(await service.get('alice')).toBe('sk-oh-llm-existing');
    expect(writes).toHaveLength(0);
  });

  it('refreshes under the user lock, publishes the old hash in the transaction and evicts it after commit', async () => {
    const probe = setUp(null);
    const existing = storedKey('sk-oh-llm-old', probe.verifier);
    const { service, events, invalidation } = setUp(existing);
    const key = await service.refresh('alice');
    expect(key).not.toBe('sk-oh-llm-old');
    expect(events).toEqual(['begin', 'lock', 'audit', 'publish', 'commit', 'evict']);
    expect(invalidation.evictLocally).toHaveBeenCalledWith([existing.keyHash]);
  });

  it('on the embedded database, calls the gateway outside any transaction: only the writes take the one connection', async () => {
    const probe = setUp(null);
    const existing = { ...storedKey('sk-litellm-old', probe.verifier), source: 'litellm' as const };
    const databaseEventsAtGatewayCalls: number[] = [];
    const gateway = {
      enabled: true,
      generate: jest.fn(async () => {
        databaseEventsAtGatewayCalls.push(events.length);
        return 'sk-litellm-new';
      }),
      delete: jest.fn(async () => void databaseEventsAtGatewayCalls.push(events.length)),
    };
    const { service, events, repository } = setUp(existing, gateway as unknown as Partial<LiteLlmClient>, embeddedConfig);
    await service.refresh('alice');
    expect(databaseEventsAtGatewayCalls).toEqual([0, 0]);
    expect(repository.lockUser).not.toHaveBeenCalled();
    expect(events).toEqual(['begin', 'audit', 'publish', 'commit', 'evict']);
  });

  it('keeps the old key when the gateway cannot delete it, and removes the new one there', async () => {
    const probe = setUp(null);
    const existing = { ...storedKey('sk-litellm-old', probe.verifier), source: 'litellm' as const };
    const gateway = {
      enabled: true,
      generate: jest.fn(async () => 'sk-litellm-new'),
      delete: jest.fn(async (key: string) => {
        if (key === 'sk-litellm-old') throw new Error('gateway down');
      }),
    };
    const { service, writes, invalidation } = setUp(existing, gateway as unknown as Partial<LiteLlmClient>);
    await expect(service.refresh('alice')).rejects.toThrow('gateway down');
    expect(gateway.delete).toHaveBeenCalledWith('sk-litellm-new');
    expect(writes).toHaveLength(0);
    expect(invalidation.publish).not.toHaveBeenCalled();
  });

  it('replaces a key reported leaked while the proxy still answered for it: deleted there first, then a new one', async () => {
    const probe = setUp(null);
    const existing = { ...storedKey('sk-litellm-leaked', probe.verifier), source: 'litellm' as const };
    const calls: string[] = [];
    const gateway = {
      enabled: true,
      check: jest.fn(async () => 'valid' as const), // the report committed after the proxy's answer
      generate: jest.fn(async () => {
        calls.push('generate');
        return 'sk-litellm-new';
      }),
      delete: jest.fn(async (key: string) => void calls.push(`delete ${key}`)),
    };
    const { service, repository, writes } = setUp(existing, gateway as unknown as Partial<LiteLlmClient>);
    repository.wasRetired.mockImplementation(async () => true);
    expect(await service.get('alice')).toBe('sk-litellm-new');
    expect(calls).toEqual(['delete sk-litellm-leaked', 'generate']);
    expect(writes.map((w) => w.op)).toEqual(['replace']);
  });

  it('does not hand out a leaked key that a refresh put in meanwhile, whoever got the lock first', async () => {
    const probe = setUp(null);
    const seen = storedKey('sk-oh-llm-seen', probe.verifier);
    const { service, repository, writes } = setUp(seen);
    // The first read saw a leaked key; under the lock the row holds another, leaked as well.
    const other = storedKey('sk-oh-llm-other', probe.verifier);
    repository.findByUser.mockImplementationOnce(async () => seen).mockImplementation(async () => other);
    repository.wasRetired.mockImplementation(async () => true);
    const key = await service.get('alice');
    expect([seen, other].map((k) => k.keyHash.equals(probe.verifier.hash(key)))).toEqual([false, false]);
    expect(writes.map((w) => w.op)).toEqual(['replace']);
  });
});
