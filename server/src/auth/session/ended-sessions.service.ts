import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { KeyInvalidationService } from '../../credentials/key-invalidation.service';
import { EndedSessionsRepository } from '../../database/repositories/ended-sessions.repository';
import { jwtExp } from '../verified-token-cache';

/**
 * A signed-out session's access token stays a valid JWT until its `exp`; this keeps it refused
 * until then, on every instance: its digest is stored, and published on the invalidation
 * channel so every instance drops it from its verified-token cache at once.
 */
@Injectable()
export class EndedSessions {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repository: EndedSessionsRepository,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  /**
   * Ends a session: its access token (until it expires) and its id (until the longest a
   * session lives), so neither the token nor a renewal with the session's refresh token works
   * again here, whether or not the provider honours the revocation.
   */
  async end(accessToken: string | undefined, sessionId: string | undefined, sessionMaxAgeSeconds: number): Promise<void> {
    const entries: Array<[Buffer, Date]> = [];
    const exp = accessToken ? jwtExp(accessToken) : undefined;
    if (accessToken && exp !== undefined && exp * 1000 > Date.now())
      entries.push([hash('sha256', accessToken, 'buffer'), new Date(exp * 1000)]);
    if (sessionId) entries.push([sessionDigest(sessionId), new Date(Date.now() + sessionMaxAgeSeconds * 1000)]);
    if (entries.length === 0) return;
    await this.dataSource.transaction(async (tx) => {
      for (const [digest, expiresAt] of entries) await this.repository.add(tx, digest, expiresAt);
      await this.invalidation.publish(
        tx,
        entries.map(([digest]) => digest),
      );
    });
    this.invalidation.evictLocally(entries.map(([digest]) => digest));
  }

  /** Checked on every full verification of a JWT (the verified-token cache spares the rest). */
  isEnded(token: string): Promise<boolean> {
    return this.repository.contains(hash('sha256', token, 'buffer'));
  }

  /** Checked before a session is renewed with its refresh token. */
  isSessionEnded(sessionId: string): Promise<boolean> {
    return this.repository.contains(sessionDigest(sessionId));
  }
}

function sessionDigest(sessionId: string): Buffer {
  return hash('sha256', `session:${sessionId}`, 'buffer');
}
