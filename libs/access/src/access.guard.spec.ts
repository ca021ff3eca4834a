import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SignJWT } from 'jose';
import { accessConfigSchema } from './access.config';
import { AccessError } from './access.error';
import { AccessGuard } from './access.guard';
import { BearerTokenVerifier } from './bearer-token.verifier';
import { type Principal, type Role } from './principal';
import { Roles } from './roles.decorator';

const sharedKey = 'g'.repeat(40);
const config = accessConfigSchema.parse({ ACCESS_SHARED_KEY: sharedKey });
const guard = new AccessGuard(new BearerTokenVerifier(config), new Reflector());

@Roles('viewer')
@Controller()
class ReleasesController {
  @Get()
  list(): void {}

  @Roles('approver')
  @Get()
  approve(): void {}
}

const tokenFor = (tenant: string, roles: Role[]) =>
  new SignJWT({ tenant, roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('carol')
    .setIssuer(config.ACCESS_ISSUER)
    .setAudience(config.ACCESS_AUDIENCE)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(sharedKey));

interface FakeRequest {
  headers: Record<string, string>;
  params: Record<string, string>;
  query: Record<string, string>;
  principal?: Principal;
}

function contextFor(handler: keyof ReleasesController, request: FakeRequest): ExecutionContext {
  return {
    getHandler: () => ReleasesController.prototype[handler],
    getClass: () => ReleasesController,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

async function outcome(handler: keyof ReleasesController, request: FakeRequest): Promise<string> {
  try {
    await guard.canActivate(contextFor(handler, request));
    return 'allowed';
  } catch (error) {
    if (error instanceof AccessError) return `${error.httpStatus} ${error.code}`;
    throw error;
  }
}

const request = (authorization: string, tenant?: string): FakeRequest => ({
  headers: { authorization },
  params: tenant === undefined ? {} : { tenant },
  query: {},
});

describe('AccessGuard', () => {
  it("admits the endpoint's role or one implying it, and refuses the others with 403", async () => {
    const matrix: [Role, string, string][] = [
      ['viewer', 'allowed', '403 missing-role'],
      ['operator', 'allowed', '403 missing-role'],
      ['approver', 'allowed', 'allowed'],
      ['admin', 'allowed', 'allowed'],
    ];
    for (const [role, list, approve] of matrix) {
      const authorization = `Bearer ${await tokenFor('acme', [role])}`;
      expect([
        role,
        await outcome('list', request(authorization)),
        await outcome('approve', request(authorization)),
      ]).toEqual([role, list, approve]);
    }
  });

  it('puts the verified principal on the request for @CurrentPrincipal()', async () => {
    const admitted = request(`Bearer ${await tokenFor('acme', ['operator'])}`);
    await guard.canActivate(contextFor('list', admitted));
    expect(admitted.principal).toEqual({ subject: 'carol', tenant: 'acme', roles: ['operator'] });
  });

  it('refuses a request naming another tenant than the token, even for an admin', async () => {
    const authorization = `Bearer ${await tokenFor('acme', ['admin'])}`;
    expect(await outcome('list', request(authorization, 'globex'))).toBe('403 wrong-tenant');
    expect(await outcome('list', { ...request(authorization), query: { tenant: 'globex' } })).toBe(
      '403 wrong-tenant',
    );
    expect(await outcome('list', request(authorization, 'acme'))).toBe('allowed');
  });

  it('answers 401 without a token or with one it cannot verify', async () => {
    expect(await outcome('list', { headers: {}, params: {}, query: {} })).toBe('401 missing-token');
    expect(await outcome('list', request('Bearer not.a.jwt'))).toBe('401 invalid-token');
  });
});
