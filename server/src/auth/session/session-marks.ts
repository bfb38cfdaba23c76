import { hash } from 'node:crypto';
import { decodeJwtSegment } from '../jwt-parts';

/**
 * What a sign-out ends, as digests stored in `ended_session_tokens`: the access token itself,
 * the provider's session (`sid` claim) and this service's session (the id in the sealed
 * cookie). A token is refused if any of its marks is there, so neither another encoding of
 * the same token nor a token renewed during the session outlives the sign-out.
 */
export interface SessionMarks {
  token: Buffer;
  providerSession?: Buffer;
  session?: Buffer;
}

function digest(text: string): Buffer {
  return hash('sha256', text, 'buffer');
}

/**
 * The token's mark is taken over its canonical form: the last base64url character of an RS256
 * signature carries unused bits, so 16 spellings of one signature verify alike.
 */
export function marksOf(token: string, sessionId?: string): SessionMarks {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const canonical = `${header}.${payload}.${Buffer.from(signature, 'base64url').toString('base64url')}`;
  const claims = decodeJwtSegment(payload) ?? {};
  const providerSession =
    typeof claims.sid === 'string' && claims.sid && typeof claims.iss === 'string' ? digest(`sid ${claims.iss} ${claims.sid}`) : undefined;
  return { token: digest(`token ${canonical}`), providerSession, session: sessionId ? sessionMark(sessionId) : undefined };
}

/** The mark of this service's session (the id in the sealed session cookie). */
export function sessionMark(sessionId: string): Buffer {
  return digest(`session ${sessionId}`);
}

export function allMarks(marks: SessionMarks): Buffer[] {
  return [marks.token, marks.providerSession, marks.session].filter((mark): mark is Buffer => mark !== undefined);
}
