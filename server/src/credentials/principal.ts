import type { Scope } from './scopes';

/** How the caller proved who they are. */
export const AUTH_TYPES = ['api_key', 'jwt', 'cookie', 'mcp'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** The authenticated caller, set on the request by the composite guard. */
export interface Principal {
  userId: string;
  authType: AuthType;
  scopes: readonly Scope[];
  /** Present when an API key authenticated the request; its validity window in epoch ms. */
  apiKey?: {
    id: number;
    name: string;
    expiresAt: number | null;
    notBefore: number | null;
    rotatedAt?: number | null;
    rateLimitPerMinute?: number | null;
  };
  username?: string;
  email?: string;
  /** The identity provider's roles for the user (OIDC_ROLES_CLAIM); none for API keys. */
  roles?: readonly string[];
}
