import { type AccessConfig, AccessTokenSigner, type Role, accessConfigSchema } from '@keel/access';
import { testAccessSharedKey } from './service-under-test';

/** What a service under test needs in its environment to verify the tokens of `testTokens`. */
export const testAccessEnv: Readonly<Record<string, string>> = { ACCESS_SHARED_KEY: testAccessSharedKey };

const config: AccessConfig = accessConfigSchema.parse(testAccessEnv);

/**
 * Bearer tokens for tests, signed like governance signs its machine tokens: valid ones for a tenant and
 * role, and the two kinds every service must refuse with 401 (expired, forged with another key).
 */
export const testTokens = {
  /** An `Authorization` header value for `tenant` holding `roles`, valid for five minutes. */
  bearer(tenant: string, ...roles: Role[]): Promise<string> {
    return new AccessTokenSigner(config).bearer({
      subject: `test:${roles.join('+') || 'none'}@${tenant}`,
      tenant,
      roles,
      ttlSeconds: 300,
    });
  },
  /** Like `bearer`, naming who acts (release steps and approvals need distinct people: four-eyes). */
  bearerFor(claims: { subject: string; tenant: string; roles: readonly Role[] }): Promise<string> {
    return new AccessTokenSigner(config).bearer({ ...claims, ttlSeconds: 300 });
  },
  /** `{ authorization }`, to spread into fetch headers. */
  async headers(tenant: string, ...roles: Role[]): Promise<{ authorization: string }> {
    return { authorization: await testTokens.bearer(tenant, ...roles) };
  },
  /** Expired an hour ago, well past any clock skew. */
  expired(tenant: string, ...roles: Role[]): Promise<string> {
    const anHourAgo = Math.floor(Date.now() / 1000) - 3_600;
    return new AccessTokenSigner(config, () => anHourAgo - 300).bearer({
      subject: 'test:expired',
      tenant,
      roles,
      ttlSeconds: 300,
    });
  },
  /** Right issuer, audience and claims, signed with a key the services do not hold. */
  forged(tenant: string, ...roles: Role[]): Promise<string> {
    const forger = accessConfigSchema.parse({ ACCESS_SHARED_KEY: 'f'.repeat(testAccessSharedKey.length) });
    return new AccessTokenSigner(forger).bearer({ subject: 'test:forged', tenant, roles, ttlSeconds: 300 });
  },
};
