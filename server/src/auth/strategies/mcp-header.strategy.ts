import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-strategy';
import { authenticateKey } from '../../credentials/key-principal';
import { KeyVerifier } from '../../credentials/key-verifier.service';
import type { Principal } from '../../credentials/principal';
import type { CredentialRequest } from '../credential';

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

  // Passport types `req` as Express's request; the guard passes a CredentialRequest.
  override authenticate(req: object): void {
    this.verify((req as CredentialRequest).credential.raw, (err, user, info) => {
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
