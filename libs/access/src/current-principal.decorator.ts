import { type ExecutionContext, createParamDecorator } from '@nestjs/common';
import { type Principal } from './principal';

/** The request's verified caller, as `AccessGuard` left it on the request. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => {
    const { principal } = context.switchToHttp().getRequest<{ principal?: Principal }>();
    if (principal === undefined) throw new Error('@CurrentPrincipal() on a route without AccessGuard');
    return principal;
  },
);
