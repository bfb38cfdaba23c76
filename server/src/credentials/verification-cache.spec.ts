import type { AppConfig } from '../config/app-config';
import type { KeyInvalidationService } from './key-invalidation.service';
import { VerificationCache } from './verification-cache';

describe('VerificationCache', () => {
  const setUp = () => {
    let evict: (stored: string) => void = () => undefined;
    const invalidation = {
      live: true,
      onEvict: (onStored: (stored: string) => void) => void (evict = onStored),
    } as unknown as KeyInvalidationService;
    const config = { apiKeys: { cacheMaxEntries: 100, cacheTtlMs: 60_000 } } as AppConfig;
    return { cache: new VerificationCache(config, invalidation), evict: (stored: string) => evict(stored) };
  };
  const secret = 'sk-oh-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const stored = Buffer.from('stored-hash');

  it("answers a lookup only with an entry of the same kind: an LLM key's owner never passes for an API key", async () => {
    const { cache } = setUp();
    const llmLoad = jest.fn(async () => ({ id: 7, userId: 'bob' }));
    await cache.resolve(secret, 'llm_key', () => stored, llmLoad);
    expect(cache.peek(secret, 'llm_key')).toEqual({ value: { id: 7, userId: 'bob' } });
    expect(cache.peek(secret, 'api_key')).toBeUndefined();

    const apiLoad = jest.fn(async () => undefined);
    expect(await cache.resolve(secret, 'api_key', () => stored, apiLoad)).toBeUndefined();
    expect(apiLoad).toHaveBeenCalledTimes(1);
    expect(cache.peek(secret, 'api_key')).toEqual({ value: undefined });
    expect(cache.peek(secret, 'llm_key')).toBeUndefined();
  });

  it('shares one load between concurrent lookups of one kind, not across kinds', async () => {
    const { cache } = setUp();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const apiLoad = jest.fn(async () => {
      await gate;
      return { id: 1 };
    });
    const llmLoad = jest.fn(async () => {
      await gate;
      return { id: 2 };
    });
    const answers = Promise.all([
      cache.resolve(secret, 'api_key', () => stored, apiLoad),
      cache.resolve(secret, 'api_key', () => stored, apiLoad),
      cache.resolve(secret, 'llm_key', () => stored, llmLoad),
    ]);
    release();
    expect(await answers).toEqual([{ id: 1 }, { id: 1 }, { id: 2 }]);
    expect(apiLoad).toHaveBeenCalledTimes(1);
    expect(llmLoad).toHaveBeenCalledTimes(1);
  });

  it('forgets an entry when its stored hash is evicted', async () => {
    const { cache, evict } = setUp();
    await cache.resolve(
      secret,
      'api_key',
      () => stored,
      async () => ({ id: 1 }),
    );
    expect(cache.peek(secret, 'api_key')).toBeDefined();
    evict(stored.toString('base64'));
    expect(cache.peek(secret, 'api_key')).toBeUndefined();
  });
});
