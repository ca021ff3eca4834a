import {
  type JWTPayload,
  type JWTVerifyGetKey,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
} from 'jose';
import { type AccessConfig } from './access.config';
import { AccessError } from './access.error';
import { type Principal, type Role, roles } from './principal';

/** Asymmetric algorithms an OIDC issuer signs with; `none` and HMAC are never accepted from a JWKS. */
const jwksAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

/** One way to check a token's signature: a key (or a key set) with the algorithms and issuer it admits. */
interface TokenKey {
  readonly key: Uint8Array | JWTVerifyGetKey;
  readonly algorithms: readonly string[];
  readonly issuer: string;
}

/**
 * Verifies standard bearer tokens (JWT): signature against the issuer's JWKS or the shared key, `iss`, `aud`,
 * `exp`/`nbf` with a small clock skew, then reads the tenant and roles claims into a `Principal`. With both
 * configured, the token's `alg` header chooses: HS256 is checked only against the shared key, asymmetric
 * algorithms only against the key set.
 */
export class BearerTokenVerifier {
  private readonly keys: readonly TokenKey[];

  constructor(
    private readonly config: AccessConfig,
    /** The current time in seconds; injected so expiry is tested without waiting. */
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    const keys: TokenKey[] = [];
    if (config.ACCESS_JWKS_URL !== undefined) {
      // jose caches the key set and refetches on an unknown `kid`, so an issuer's key rotation needs no restart.
      keys.push({
        key: createRemoteJWKSet(new URL(config.ACCESS_JWKS_URL)),
        algorithms: jwksAlgorithms,
        issuer: config.ACCESS_JWKS_ISSUER ?? config.ACCESS_ISSUER,
      });
    }
    if (config.ACCESS_SHARED_KEY !== undefined) {
      keys.push({
        key: new TextEncoder().encode(config.ACCESS_SHARED_KEY),
        algorithms: ['HS256'],
        issuer: config.ACCESS_ISSUER,
      });
    }
    if (keys.length === 0) throw new RangeError('access: set ACCESS_JWKS_URL or ACCESS_SHARED_KEY');
    this.keys = keys;
  }

  /** @throws AccessError `missing-token` or `invalid-token` (naming why, for the log; clients see the code). */
  async verify(authorization: string | undefined): Promise<Principal> {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (token === undefined)
      throw new AccessError('missing-token', 'no bearer token in the Authorization header');
    const payload = await this.verified(token);
    return this.principalOf(payload);
  }

  private async verified(token: string): Promise<JWTPayload> {
    try {
      const key = this.keyFor(token);
      const options = {
        issuer: key.issuer,
        audience: this.config.ACCESS_AUDIENCE,
        algorithms: [...key.algorithms],
        clockTolerance: this.config.ACCESS_CLOCK_SKEW_SECONDS,
        currentDate: new Date(this.now() * 1000),
        requiredClaims: ['sub', 'exp'],
      };
      // Two calls for jose's two overloads: a key, or a resolver picking one from the key set.
      const { payload } =
        key.key instanceof Uint8Array
          ? await jwtVerify(token, key.key, options)
          : await jwtVerify(token, key.key, options);
      return payload;
    } catch (error) {
      if (error instanceof errors.JOSEError) {
        throw new AccessError('invalid-token', `bearer token refused: ${reasonOf(error)}`, { cause: error });
      }
      throw error;
    }
  }

  /** The key whose algorithms include the token's `alg`; else the first, whose check then names the mismatch. */
  private keyFor(token: string): TokenKey {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      // Not a JWS at all: jwtVerify below refuses it with jose's own reason.
    }
    return this.keys.find((key) => alg !== undefined && key.algorithms.includes(alg)) ?? this.keys[0];
  }

  private principalOf(payload: JWTPayload): Principal {
    const tenant = payload[this.config.ACCESS_TENANT_CLAIM];
    const claimed = payload[this.config.ACCESS_ROLES_CLAIM];
    if (typeof tenant !== 'string' || tenant === '') {
      throw new AccessError(
        'invalid-token',
        `bearer token has no '${this.config.ACCESS_TENANT_CLAIM}' claim`,
      );
    }
    const known = (Array.isArray(claimed) ? claimed : []).filter((role): role is Role =>
      (roles as readonly unknown[]).includes(role),
    );
    return { subject: payload.sub ?? '', tenant, roles: known };
  }
}

function reasonOf(error: InstanceType<typeof errors.JOSEError>): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim '${error.claim}' ${error.reason}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return 'signed by a key the issuer does not publish';
  return error.code;
}
