import { SignJWT } from 'jose';
import { type AccessConfig } from './access.config';
import { type Role } from './principal';

export interface AccessTokenRequest {
  /** `sub`: who acts, e.g. `service:decisioning`, `apikey:<id>`, a person's id. */
  readonly subject: string;
  readonly tenant: string;
  readonly roles: readonly Role[];
  readonly ttlSeconds: number;
}

/**
 * Mints HS256 bearer tokens with the shared key, in the claims every service's `BearerTokenVerifier` reads
 * (issuer, audience, tenant and roles claims from the same `AccessConfig`). Used where Keel itself is the
 * issuer: a service calling another for one tenant, the CLI on a local stack, the tests.
 */
export class AccessTokenSigner {
  private readonly key: Uint8Array;

  constructor(
    private readonly config: AccessConfig,
    /** The current time in seconds. */
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    if (config.ACCESS_SHARED_KEY === undefined) {
      throw new RangeError('access: minting tokens needs ACCESS_SHARED_KEY');
    }
    this.key = new TextEncoder().encode(config.ACCESS_SHARED_KEY);
  }

  sign({ subject, tenant, roles, ttlSeconds }: AccessTokenRequest): Promise<string> {
    const issuedAt = this.now();
    return new SignJWT({
      [this.config.ACCESS_TENANT_CLAIM]: tenant,
      [this.config.ACCESS_ROLES_CLAIM]: [...roles],
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject)
      .setIssuer(this.config.ACCESS_ISSUER)
      .setAudience(this.config.ACCESS_AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .sign(this.key);
  }

  /** An `Authorization` header value. */
  async bearer(request: AccessTokenRequest): Promise<string> {
    return `Bearer ${await this.sign(request)}`;
  }
}
