import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy as HttpBearerStrategy } from 'passport-http-bearer';
import { KeyVerifier } from '../../api-keys/key-verifier.service';
import type { Principal } from '../principal';
import { authenticateKey } from './api-key-failure';

export const API_KEY_STRATEGY = 'api-key';

/** `Authorization: Bearer sk-oh-…`: one of our API keys (the guard routes only prefixed tokens here). */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(HttpBearerStrategy, API_KEY_STRATEGY) {
  constructor(private readonly verifier: KeyVerifier) {
    super();
  }

  validate(token: string): Promise<Principal> {
    return authenticateKey(this.verifier, token, 'api_key');
  }
}
