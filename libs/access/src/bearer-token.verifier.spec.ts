import { type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { type AccessConfig, accessConfigProblem, accessConfigSchema } from './access.config';
import { AccessError } from './access.error';
import { AccessTokenSigner } from './access-token.signer';
import { BearerTokenVerifier } from './bearer-token.verifier';

const sharedKey = 's'.repeat(40);
const now = 1_800_000_000;
const config: AccessConfig = accessConfigSchema.parse({ ACCESS_SHARED_KEY: sharedKey });

async function token(
  claims: Record<string, unknown> = { tenant: 'acme', roles: ['operator'] },
  options: { key?: string; issuer?: string; audience?: string; expiresAt?: number } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .setIssuer(options.issuer ?? config.ACCESS_ISSUER)
    .setAudience(options.audience ?? config.ACCESS_AUDIENCE)
    .setIssuedAt(now - 60)
    .setExpirationTime(options.expiresAt ?? now + 300)
    .sign(new TextEncoder().encode(options.key ?? sharedKey));
}

async function refusal(verifier: BearerTokenVerifier, header: string | undefined): Promise<AccessError> {
  try {
    await verifier.verify(header);
  } catch (error) {
    if (error instanceof AccessError) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

describe('BearerTokenVerifier with a shared key', () => {
  const verifier = new BearerTokenVerifier(config, () => now);

  it('reads subject, tenant and known roles from a valid token', async () => {
    const principal = await verifier.verify(
      `Bearer ${await token({ tenant: 'acme', roles: ['approver', 'root'] })}`,
    );
    expect(principal).toEqual({ subject: 'alice', tenant: 'acme', roles: ['approver'] });
  });

  it('refuses a missing or malformed header as missing-token (401)', async () => {
    for (const header of [undefined, '', 'Basic abc', 'Bearer']) {
      expect(await refusal(verifier, header)).toMatchObject({ code: 'missing-token', httpStatus: 401 });
    }
  });

  it('refuses an expired token, but admits one expired within the clock skew', async () => {
    expect(
      await refusal(verifier, `Bearer ${await token(undefined, { expiresAt: now - 31 })}`),
    ).toMatchObject({
      code: 'invalid-token',
      httpStatus: 401,
      message: expect.stringMatching(/expired/),
    });
    await expect(
      verifier.verify(`Bearer ${await token(undefined, { expiresAt: now - 29 })}`),
    ).resolves.toMatchObject({
      tenant: 'acme',
    });
  });

  it('refuses a token signed with another key (forged)', async () => {
    const forged = await token(undefined, { key: 'f'.repeat(40) });
    expect(await refusal(verifier, `Bearer ${forged}`)).toMatchObject({
      code: 'invalid-token',
      message: expect.stringMatching(/signature/),
    });
  });

  it('refuses a token for another issuer or another audience', async () => {
    expect(await refusal(verifier, `Bearer ${await token(undefined, { issuer: 'evil' })}`)).toMatchObject({
      code: 'invalid-token',
      message: expect.stringMatching(/'iss'/),
    });
    expect(
      await refusal(verifier, `Bearer ${await token(undefined, { audience: 'billing' })}`),
    ).toMatchObject({
      code: 'invalid-token',
      message: expect.stringMatching(/'aud'/),
    });
  });

  it('refuses a token without a tenant claim and an unsigned (alg none) token', async () => {
    expect(await refusal(verifier, `Bearer ${await token({ roles: ['admin'] })}`)).toMatchObject({
      code: 'invalid-token',
      message: expect.stringMatching(/tenant/),
    });
    const [, body] = (await token()).split('.');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`;
    expect(await refusal(verifier, `Bearer ${unsigned}`)).toMatchObject({ code: 'invalid-token' });
  });
});

describe('BearerTokenVerifier with an OIDC issuer (JWKS URL)', () => {
  it("verifies tokens signed with the issuer's published key and refuses one signed with another", async () => {
    const issuerKeys = await generateKeyPair('RS256');
    const strangerKeys = await generateKeyPair('RS256');
    const jwks = {
      keys: [{ ...(await exportJWK(issuerKeys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }],
    };
    const server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const oidc = accessConfigSchema.parse({
        ACCESS_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
        ACCESS_ISSUER: 'https://login.example.org/',
        ACCESS_AUDIENCE: 'keel-api',
      });
      const verifier = new BearerTokenVerifier(oidc, () => now);
      const sign = (key: Parameters<SignJWT['sign']>[0]) =>
        new SignJWT({ tenant: 'acme', roles: ['viewer'] })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setSubject('bob@example.org')
          .setIssuer('https://login.example.org/')
          .setAudience('keel-api')
          .setExpirationTime(now + 60)
          .sign(key);
      await expect(verifier.verify(`Bearer ${await sign(issuerKeys.privateKey)}`)).resolves.toEqual({
        subject: 'bob@example.org',
        tenant: 'acme',
        roles: ['viewer'],
      });
      expect(await refusal(verifier, `Bearer ${await sign(strangerKeys.privateKey)}`)).toMatchObject({
        code: 'invalid-token',
      });
      // An HMAC token "signed" with the public key must not pass as the issuer's.
      expect(
        await refusal(
          verifier,
          `Bearer ${await token(undefined, { issuer: 'https://login.example.org/', audience: 'keel-api' })}`,
        ),
      ).toMatchObject({
        code: 'invalid-token',
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('BearerTokenVerifier with both an OIDC issuer and the shared key', () => {
  it("checks HS256 tokens against the shared key and asymmetric ones against the issuer's key set only", async () => {
    const issuerKeys = await generateKeyPair('RS256');
    const jwks = {
      keys: [{ ...(await exportJWK(issuerKeys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }],
    };
    const server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const both = accessConfigSchema.parse({
        ACCESS_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
        ACCESS_JWKS_ISSUER: 'https://login.example.org/',
        ACCESS_SHARED_KEY: sharedKey,
      });
      const verifier = new BearerTokenVerifier(both, () => now);
      const person = await new SignJWT({ tenant: 'acme', roles: ['approver'] })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('bob@example.org')
        .setIssuer('https://login.example.org/')
        .setAudience(both.ACCESS_AUDIENCE)
        .setExpirationTime(now + 60)
        .sign(issuerKeys.privateKey);
      await expect(verifier.verify(`Bearer ${person}`)).resolves.toMatchObject({
        subject: 'bob@example.org',
      });
      await expect(verifier.verify(`Bearer ${await token()}`)).resolves.toMatchObject({ subject: 'alice' });
      // The shared key's issuer is governance's: an HS256 token claiming the OIDC issuer is refused.
      expect(
        await refusal(verifier, `Bearer ${await token(undefined, { issuer: 'https://login.example.org/' })}`),
      ).toMatchObject({ code: 'invalid-token', message: expect.stringMatching(/'iss'/) });
      expect(await refusal(verifier, 'Bearer not.a.jwt')).toMatchObject({ code: 'invalid-token' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('AccessTokenSigner', () => {
  it('mints tokens the verifier reads back, with the configured claim names', async () => {
    const custom = accessConfigSchema.parse({
      ACCESS_SHARED_KEY: sharedKey,
      ACCESS_TENANT_CLAIM: 'org',
      ACCESS_ROLES_CLAIM: 'groups',
    });
    const signer = new AccessTokenSigner(custom, () => now);
    const header = await signer.bearer({
      subject: 'service:decisioning',
      tenant: 'acme',
      roles: ['viewer'],
      ttlSeconds: 60,
    });
    await expect(new BearerTokenVerifier(custom, () => now).verify(header)).resolves.toEqual({
      subject: 'service:decisioning',
      tenant: 'acme',
      roles: ['viewer'],
    });
    expect(await refusal(new BearerTokenVerifier(custom, () => now + 91), header)).toMatchObject({
      code: 'invalid-token',
      message: expect.stringMatching(/expired/),
    });
    expect(() => new AccessTokenSigner(accessConfigSchema.parse({}))).toThrow(/ACCESS_SHARED_KEY/);
  });
});

describe('accessConfigProblem', () => {
  it('wants a source of keys, an empty setting counting as unset; both together are allowed', () => {
    expect(
      accessConfigProblem(accessConfigSchema.parse({ ACCESS_SHARED_KEY: sharedKey, ACCESS_JWKS_URL: '' })),
    ).toBeUndefined();
    expect(accessConfigProblem(accessConfigSchema.parse({ ACCESS_SHARED_KEY: '' }))).toMatch(
      /ACCESS_JWKS_URL/,
    );
    expect(
      accessConfigProblem(
        accessConfigSchema.parse({ ACCESS_SHARED_KEY: sharedKey, ACCESS_JWKS_URL: 'https://x/jwks' }),
      ),
    ).toBeUndefined();
  });
});
