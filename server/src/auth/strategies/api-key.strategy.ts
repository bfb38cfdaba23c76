import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy as HttpBearerStrategy } from 'passport-http-bearer';
import { authenticateKey } from '../../credentials/key-principal';
import { KeyVerifier } from '../../credentials/key-verifier.service';
import type { Principal } from '../../credentials/principal';

export const API_KEY_STRATEGY = 'api-key';

/**
 * `Authorization: Bearer sk-oh-…`: one of our API keys. The guard hands it a request view that
 * holds only the credential it parsed, in canonical `Bearer <token>` form, so this strategy
 * never sees the raw headers, a body or a query string.
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(HttpBearerStrategy, API_KEY_STRATEGY) {
  constructor(private readonly verifier: KeyVerifier) {
    super();
  }

  validate(token: string): Promise<Principal> {
    return authenticateKey(this.verifier, token, 'api_key');
  }
}
