import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy as HttpBearerStrategy } from 'passport-http-bearer';
import { KeyVerifier } from '../../api-keys/key-verifier.service';
import type { Principal } from '../principal';
import { apiKeyFailure } from './api-key-failure';

export const API_KEY_STRATEGY = 'api-key';

/** `Authorization: Bearer sk-oh-…`: one of our API keys (the guard routes only prefixed tokens here). */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(HttpBearerStrategy, API_KEY_STRATEGY) {
  constructor(private readonly verifier: KeyVerifier) {
    super();
  }

  async validate(token: string): Promise<Principal> {
    const result = await this.verifier.verify(token);
    if (result.code !== 'VALID' || !result.key) throw apiKeyFailure(result.code === 'VALID' ? 'NOT_FOUND' : result.code);
    const { id, name, userId, scopes } = result.key;
    return { userId, authType: 'api_key', scopes, apiKey: { id, name } };
  }
}
