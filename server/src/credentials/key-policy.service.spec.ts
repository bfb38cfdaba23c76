import { unitTestConfig } from '../config/unit-test-config';
import type { KeyPolicyRepository, StoredKeyPolicy } from '../database/repositories/key-policy.repository';
import type { KeyInvalidationService } from './key-invalidation.service';
import { KeyPolicyService } from './key-policy.service';

function setUp(env: Record<string, string> = {}, live = true) {
  let stored: StoredKeyPolicy | undefined;
  const reads: Array<(value: StoredKeyPolicy | undefined) => void> = [];
  let deferred = false;
  const repository = {
    read: jest.fn(() => (deferred ? new Promise<StoredKeyPolicy | undefined>((resolve) => reads.push(resolve)) : Promise.resolve(stored))),
  };
  let onChange: () => void = () => undefined;
  const invalidation = {
    live,
    onPolicyChange: (listener: () => void) => (onChange = listener),
  };
  const service = new KeyPolicyService(
    unitTestConfig(env),
    repository as unknown as KeyPolicyRepository,
    invalidation as unknown as KeyInvalidationService,
  );
  return {
    service,
    repository,
    store: (policy: Partial<StoredKeyPolicy>) => {
      stored = {
        maxLifetimeDays: 30,
        expiryRequired: true,
        maxKeysPerUser: 10,
        allowedScopes: ['keys:read', 'keys:write'],
        defaultScopes: ['keys:read'],
        expiryWarningDays: 3,
        updatedAt: new Date('2026-11-30T10:00:00Z'),
        updatedBy: 'admin',
        ...policy,
      };
    },
    notify: () => onChange(),
    defer: () => (deferred = true),
    reads,
  };
}

describe('KeyPolicyService', () => {
  it('starts from the environment: all scopes allowed, the non-opt-in ones by default', () => {
    const { service } = setUp({ API_KEY_MAX_LIFETIME_DAYS: '90', EXPIRY_WARNING_DAYS: '5' });
    expect(service.current()).toEqual({
      maxLifetimeDays: 90,
      expiryRequired: false,
      maxKeysPerUser: 100,
      allowedScopes: [
        'keys:read',
        'keys:write',
        'llm:read',
        'llm:write',
        'mcp',
        'webhooks:read',
        'webhooks:write',
        'admin:read',
        'admin:write',
      ],
      defaultScopes: ['keys:read', 'keys:write', 'llm:read', 'llm:write', 'mcp'],
      expiryWarningDays: 5,
      updatedAt: null,
      updatedBy: null,
    });
    expect(setUp({ API_KEY_ALLOWED_SCOPES: 'keys:read,mcp' }).service.current().defaultScopes).toEqual(['keys:read', 'mcp']);
  });

  it('takes the stored policy at start and on every notification; never an opt-in default even if stored', async () => {
    const { service, store, notify, repository } = setUp();
    store({ defaultScopes: ['keys:read', 'admin:read'] });
    await service.onApplicationBootstrap();
    expect(service.current()).toMatchObject({ maxLifetimeDays: 30, defaultScopes: ['keys:read'], updatedBy: 'admin' });
    store({ expiryWarningDays: 9 });
    notify();
    await service.reload(); // the notification's read, then this one
    expect(service.current().expiryWarningDays).toBe(9);
    expect(repository.read).toHaveBeenCalledTimes(3);
  });

  it('a read that started before a newer change never overwrites it', async () => {
    const { service, store, defer, reads } = setUp();
    defer();
    const stale = service.reload();
    await new Promise((resolve) => setImmediate(resolve)); // the read has started
    expect(reads).toHaveLength(1);
    store({ expiryWarningDays: 20 });
    service.applied(service.effective({ ...service.defaults(), updatedAt: new Date(), expiryWarningDays: 20 } as never));
    reads[0](undefined); // the old read answers "no policy stored"
    await stale;
    expect(service.current().expiryWarningDays).toBe(20);
  });

  it('while the listener is down, re-reads a copy older than 1 s when asked for it', async () => {
    const { service, store, repository } = setUp({}, false);
    await service.reload();
    store({ expiryWarningDays: 4 });
    expect(service.current().expiryWarningDays).toBe(7); // fresh: no read
    expect(repository.read).toHaveBeenCalledTimes(1);
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 1500);
    service.current(); // stale: starts a read, answers the copy meanwhile
    jest.restoreAllMocks();
    await service.reload();
    expect(service.current().expiryWarningDays).toBe(4);
  });
});
