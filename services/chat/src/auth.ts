import type { IncomingMessage } from 'node:http';
import { SignJWT, jwtVerify } from 'jose';
import { USER_ID } from './domain/conversation.ts';

const ISSUER = 'chat';
const AUDIENCE = 'chat';

/** Session tokens: HS256 JWTs whose subject is the user id, signed with TOKEN_SECRET. */
export class Tokens {
  readonly #key: Uint8Array;
  readonly #ttlSeconds: number;

  constructor(secret: string, ttlSeconds: number) {
    this.#key = new TextEncoder().encode(secret);
    this.#ttlSeconds = ttlSeconds;
  }

  async issue(userId: string): Promise<{ token: string; expiresAt: number }> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + this.#ttlSeconds)
      .sign(this.#key);
    return { token, expiresAt: (now + this.#ttlSeconds) * 1000 };
  }

  /** The user id of a valid token, or undefined for anything else (forged, expired, malformed). */
  async verify(token: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
      });
      return typeof payload.sub === 'string' && USER_ID.test(payload.sub) ? payload.sub : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The WebSocket subprotocol a handler answers with; browsers offer it with `bearer.<token>`. */
export const CHAT_PROTOCOL = 'chat.v1';
const PROTOCOL_TOKEN = 'bearer.';

/**
 * The bearer token of a request: the Authorization header, else (for
 * browsers, which cannot set headers on a WebSocket) a `bearer.<token>`
 * subprotocol, else an `access_token` query parameter.
 */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) return /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    const offered = protocols.split(',').map((p) => p.trim());
    const bearer = offered.find((p) => p.startsWith(PROTOCOL_TOKEN));
    if (bearer) return bearer.slice(PROTOCOL_TOKEN.length);
  }
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams.get('access_token');
  return query ?? undefined;
}
