import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-strategy';
import { KeyVerifier } from '../../api-keys/key-verifier.service';
import type { Principal } from '../principal';
import { authenticateKey } from './api-key-failure';

export const MCP_HEADER = 'x-session-api-key';
export const MCP_STRATEGY = 'mcp-header';

type Verify = (key: string, done: (err: unknown, user?: unknown, info?: unknown) => void) => void;

/**
 * Passport strategy for `X-Session-API-Key`: MCP streamable-HTTP clients drop `Authorization`
 * on redirects, so MCP servers send the same API key in this header.
 */
class HeaderApiKeyStrategy extends Strategy {
  constructor(private readonly verify: Verify) {
    super();
  }

  override authenticate(req: { headers: Record<string, string | string[] | undefined> }): void {
    const value = req.headers[MCP_HEADER];
    if (typeof value !== 'string' || value.length === 0) return this.fail('missing', 401);
    this.verify(value.trim(), (err, user, info) => {
      if (err) return this.error(err as Error);
      if (!user) return this.fail(info, 401);
      this.success(user, info);
    });
  }
}

@Injectable()
export class McpHeaderStrategy extends PassportStrategy(HeaderApiKeyStrategy, MCP_STRATEGY) {
  constructor(private readonly verifier: KeyVerifier) {
    super();
  }

  validate(key: string): Promise<Principal> {
    return authenticateKey(this.verifier, key, 'mcp');
  }
}
