import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { KeyInvalidationService } from '../../credentials/key-invalidation.service';
import { EndedSessionsRepository } from '../../database/repositories/ended-sessions.repository';
import { jwtExp } from '../verified-token-cache';
import { allMarks, marksOf, sessionMark, type SessionMarks } from './session-marks';

/**
 * A signed-out session's tokens stay valid JWTs until their `exp`; this keeps them refused
 * until then, on every instance: the session's marks (see session-marks.ts) are stored, and
 * published on the invalidation channel so every instance drops the tokens carrying them from
 * its verified-token cache at once.
 */
@Injectable()
export class EndedSessions {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repository: EndedSessionsRepository,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  /**
   * Ends the session of `accessToken` (its own mark until it expires) and its sessions at the
   * provider and here (until the longest a session lives), so no token of it, and no renewal
   * with its refresh token, works again here, whether or not the provider honours the revocation.
   */
  async end(accessToken: string | undefined, sessionId: string | undefined, sessionMaxAgeSeconds: number): Promise<void> {
    const marks = marksOf(accessToken ?? '', sessionId);
    const sessionEnds = new Date(Date.now() + sessionMaxAgeSeconds * 1000);
    const exp = accessToken ? jwtExp(accessToken) : undefined;
    const entries: Array<[Buffer, Date]> = [];
    if (exp !== undefined && exp * 1000 > Date.now()) entries.push([marks.token, new Date(exp * 1000)]);
    for (const mark of [marks.providerSession, marks.session]) if (mark) entries.push([mark, sessionEnds]);
    if (entries.length === 0) return;
    const digests = entries.map(([digest]) => digest);
    await this.dataSource.transaction(async (tx) => {
      for (const [digest, expiresAt] of entries) await this.repository.add(tx, digest, expiresAt);
      await this.invalidation.publish(tx, digests);
    });
    this.invalidation.evictLocally(digests);
  }

  /** Checked on every full verification of a JWT (the verified-token cache spares the rest). */
  isEnded(marks: SessionMarks): Promise<boolean> {
    return this.repository.containsAny(allMarks(marks));
  }

  /** Checked before a session is renewed with its refresh token. */
  isSessionEnded(sessionId: string): Promise<boolean> {
    return this.repository.containsAny([sessionMark(sessionId)]);
  }
}
