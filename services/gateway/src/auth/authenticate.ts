import type { IncomingHttpHeaders } from 'node:http';
import { createRemoteJWKSet, importSPKI, type JWTPayload, jwtVerify, type JWTVerifyGetKey, type KeyLike } from 'jose';
import { type Principal, type Role, ROLES } from '@o2o/kit-grpc';
import { HttpProblem } from '../http/problem';
import type { ApiKeyStore } from './api-keys';
import { effectiveScopes } from './scopes';

/** The caller as authenticated, and what identifies its credential for rate limiting. */
export interface Caller {
  principal: Principal;
  /** `key:<id>` or `jwt:<iss>:<sub>`: one rate-limit bucket per credential. */
  credential: string;
  rateLimitPerMinute: number;
}

export interface JwtSettings {
  issuer: string;
  audience: string;
  /** A JWKS URL (RS256/ES256 keys rotated by the identity provider) … */
  jwksUrl?: string;
  /** … or one PEM public key … */
  publicKeyPem?: string;
  /** … or a shared secret (HS256), for local runs and tests. */
  sharedSecret?: string;
  /** Tolerated clock difference. */
  clockToleranceSeconds: number;
}

/** Claims the gateway reads besides the standard ones. */
export const ROLE_CLAIM = 'o2o_role';
export const STORES_CLAIM = 'o2o_stores';

const unauthenticated = (detail: string) =>
  new HttpProblem(401, detail, { headers: { 'www-authenticate': 'Bearer realm="o2o", ApiKey realm="o2o"' } });

async function jwtKey(settings: JwtSettings): Promise<{ key: JWTVerifyGetKey | KeyLike | Uint8Array; algs: string[] }> {
  if (settings.jwksUrl)
    return { key: createRemoteJWKSet(new URL(settings.jwksUrl)), algs: ['RS256', 'ES256', 'PS256'] };
  if (settings.publicKeyPem) {
    const alg = settings.publicKeyPem.includes('EC PUBLIC') ? 'ES256' : 'RS256';
    return { key: await importSPKI(settings.publicKeyPem, alg), algs: [alg] };
  }
  if (settings.sharedSecret) return { key: new TextEncoder().encode(settings.sharedSecret), algs: ['HS256'] };
  throw new Error('no JWT key configured');
}

function principalOfClaims(payload: JWTPayload): Principal {
  const role = payload[ROLE_CLAIM];
  if (typeof role !== 'string' || !ROLES.includes(role as Role))
    throw unauthenticated(`the token has no valid ${ROLE_CLAIM} claim`);
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) {
    throw unauthenticated('the token has no subject');
  }
  const stores = payload[STORES_CLAIM] ?? [];
  if (!Array.isArray(stores) || !stores.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 128)) {
    throw unauthenticated(`the token's ${STORES_CLAIM} claim must be a list of store ids`);
  }
  const scope = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : undefined;
  return {
    role: role as Role,
    subject: payload.sub,
    storeIds: stores as string[],
    scopes: effectiveScopes(role as Role, scope),
  };
}

/**
 * Reads the credential of a request: `Authorization: Bearer <JWT>` or `X-API-Key: <key>` (one, not both). A JWT
 * must be signed by the configured issuer's key for this audience and carry `o2o_role` (and `o2o_stores` for
 * staff and partners); `scope`, when present, narrows the role's scopes.
 */
export async function createAuthenticator(options: {
  keys: ApiKeyStore;
  jwt?: JwtSettings;
  defaultRateLimitPerMinute: number;
}): Promise<(headers: IncomingHttpHeaders) => Promise<Caller>> {
  const jwt =
    options.jwt && (options.jwt.jwksUrl || options.jwt.publicKeyPem || options.jwt.sharedSecret)
      ? { settings: options.jwt, ...(await jwtKey(options.jwt)) }
      : undefined;

  return async (headers) => {
    const apiKey = headers['x-api-key'];
    const authorization = headers.authorization;
    if (apiKey !== undefined && authorization !== undefined) {
      throw unauthenticated('send either an API key or a bearer token, not both');
    }
    if (typeof apiKey === 'string') {
      const record = await options.keys.verify(apiKey.trim());
      if (!record) throw unauthenticated('the API key is not valid');
      return {
        principal: { ...record.principal, scopes: effectiveScopes(record.principal.role, record.principal.scopes) },
        credential: `key:${record.id}`,
        rateLimitPerMinute: record.rateLimitPerMinute || options.defaultRateLimitPerMinute,
      };
    }
    if (typeof authorization === 'string') {
      const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization.trim());
      if (!m) throw unauthenticated('the Authorization header must be "Bearer <JWT>"');
      if (!jwt) throw unauthenticated('bearer tokens are not accepted here; use an API key');
      let payload: JWTPayload;
      try {
        const verifyOptions = {
          issuer: jwt.settings.issuer,
          audience: jwt.settings.audience,
          algorithms: jwt.algs,
          clockTolerance: jwt.settings.clockToleranceSeconds,
          requiredClaims: ['sub', 'exp'],
        };
        const token = m[1] ?? '';
        ({ payload } =
          typeof jwt.key === 'function'
            ? await jwtVerify(token, jwt.key, verifyOptions)
            : await jwtVerify(token, jwt.key, verifyOptions));
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        throw unauthenticated(
          code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : 'the token is not valid for this gateway',
        );
      }
      const principal = principalOfClaims(payload);
      return {
        principal,
        credential: `jwt:${payload.iss ?? ''}:${principal.subject}`,
        rateLimitPerMinute: options.defaultRateLimitPerMinute,
      };
    }
    throw unauthenticated('authentication required: send an X-API-Key header or a bearer token');
  };
}
