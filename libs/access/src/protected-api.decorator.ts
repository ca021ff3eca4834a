import { UseGuards, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { AccessGuard } from './access.guard';

/**
 * What a controller of any Keel service puts on: the rate limit first (a flood of bad tokens costs no
 * signature check), then the bearer token, role and tenant check, and both in its OpenAPI description. The
 * service gets the guards' settings from `ServiceChassisModule` (`http`). Name the roles with `@Roles`.
 */
export const ProtectedApi = (): ClassDecorator =>
  applyDecorators(
    UseGuards(ThrottlerGuard, AccessGuard),
    ApiBearerAuth(),
    ApiResponse({
      status: 401,
      description: 'missing-token or invalid-token (absent, malformed, expired, forged)',
    }),
    ApiResponse({
      status: 403,
      description: 'missing-role, or wrong-tenant (the request names another tenant)',
    }),
    ApiResponse({ status: 429, description: 'rate limited; retry after the window' }),
  );
