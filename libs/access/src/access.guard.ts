import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessError } from './access.error';
import { BearerTokenVerifier } from './bearer-token.verifier';
import { type Principal, type Role, hasRole } from './principal';
import { rolesMetadataKey } from './roles.decorator';

interface GuardedRequest {
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string | undefined>;
  query?: Record<string, unknown>;
  principal?: Principal;
}

/**
 * Lets a request through only with a valid bearer token holding a role the endpoint admits (`@Roles`), and
 * only for the tenant its token names: a request that names another tenant (route `:tenant` or `?tenant=`) is
 * refused, so a handler scoping its queries by `@CurrentPrincipal().tenant` never serves another's data.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    @Inject(BearerTokenVerifier) private readonly verifier: BearerTokenVerifier,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const authorization = request.headers.authorization;
    const principal = await this.verifier.verify(
      Array.isArray(authorization) ? authorization[0] : authorization,
    );
    const required =
      this.reflector.getAllAndOverride<Role[] | undefined>(rolesMetadataKey, [
        context.getHandler(),
        context.getClass(),
      ]) ?? [];
    if (required.length > 0 && !required.some((role) => hasRole(principal, role))) {
      throw new AccessError(
        'missing-role',
        `'${principal.subject}' needs one of the roles ${required.join(', ')}`,
      );
    }
    const named = request.params?.tenant ?? request.query?.tenant;
    if (named !== undefined && named !== principal.tenant) {
      throw new AccessError(
        'wrong-tenant',
        `'${principal.subject}' acts for tenant '${principal.tenant}', not another`,
      );
    }
    request.principal = principal;
    return true;
  }
}
