import { Injectable, Logger } from '@nestjs/common';
import { ApiProblem } from '../common/problem';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';

export type GatewayCheck = 'valid' | 'invalid' | 'unreachable';

/**
 * The three LiteLLM proxy endpoints the BYOR key needs, as LiteLLM documents them: key
 * generation and deletion with the master key as Bearer, and `/v1/models` with the user's key
 * to see whether the proxy still accepts it. Every call has a timeout; the master key never
 * reaches a log or a response (errors carry the status only).
 */
@Injectable()
export class LiteLlmClient {
  private readonly logger = new Logger(LiteLlmClient.name);

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  get enabled(): boolean {
    return this.config.llmKeys.litellm !== undefined;
  }

  private get gateway() {
    const gateway = this.config.llmKeys.litellm;
    if (!gateway) throw new Error('LiteLLM is not configured');
    return gateway;
  }

  private async call(path: string, init: RequestInit & { bearer: string }): Promise<Response> {
    const { url, timeoutMs } = this.gateway;
    const { bearer, ...rest } = init;
    try {
      const response = await fetch(`${url}${path}`, {
        ...rest,
        headers: { ...(rest.headers as Record<string, string>), authorization: `Bearer ${bearer}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
      this.metrics.litellmCalls.labels(response.ok ? 'success' : 'error').inc();
      return response;
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      this.metrics.litellmCalls.labels(timedOut ? 'timeout' : 'error').inc();
      const reason = timedOut ? `timed out after ${timeoutMs} ms` : 'unreachable';
      this.logger.warn(`LiteLLM ${path}: ${reason}`);
      throw ApiProblem.unavailable(`The LLM gateway is ${reason}; try again shortly.`, 'llm_gateway_unavailable');
    }
  }

  private failed(path: string, status: number): ApiProblem {
    this.logger.warn(`LiteLLM ${path} answered ${status}`);
    return new ApiProblem({ status: 502, code: 'llm_gateway_error', detail: `The LLM gateway refused the request (HTTP ${status}).` });
  }

  /** POST /key/generate → the new key. */
  async generate(userId: string): Promise<string> {
    const response = await this.call('/key/generate', {
      method: 'POST',
      bearer: this.gateway.masterKey,
      headers: { 'content-type': 'application/json' },
      // The alias is unique per key, so a rotation never collides with the key it replaces.
      body: JSON.stringify({ user_id: userId, key_alias: `byor-${userId}-${Date.now()}`, metadata: { type: 'byor' } }),
    });
    if (!response.ok) throw this.failed('/key/generate', response.status);
    const body = (await response.json().catch(() => ({}))) as { key?: unknown };
    if (typeof body.key !== 'string' || body.key.length === 0) throw this.failed('/key/generate', response.status);
    return body.key;
  }

  /** POST /key/delete. A key the proxy no longer knows counts as deleted. */
  async delete(key: string): Promise<void> {
    const response = await this.call('/key/delete', {
      method: 'POST',
      bearer: this.gateway.masterKey,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: [key] }),
    });
    if (!response.ok && response.status !== 404) throw this.failed('/key/delete', response.status);
  }

  /** GET /v1/models with the key itself: only 200 means the proxy accepts it. */
  async check(key: string): Promise<GatewayCheck> {
    try {
      const response = await this.call('/v1/models', { method: 'GET', bearer: key });
      await response.body?.cancel();
      if (response.status === 200) return 'valid';
      // A 4xx refuses this key (LiteLLM answers 400 or 401 for unknown keys); 429 and 5xx are
      // the proxy's own trouble and no reason to replace a key.
      return response.status >= 400 && response.status < 500 && response.status !== 429 ? 'invalid' : 'unreachable';
    } catch {
      return 'unreachable';
    }
  }
}
