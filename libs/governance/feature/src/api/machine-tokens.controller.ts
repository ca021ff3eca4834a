import { AccessGuard, CurrentPrincipal, type Principal, Roles } from '@keel/access';
import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { MachineTokensService } from '../application/machine-tokens.service';
import { apiKeyBodySchema, openApi, parsed, tokenBodySchema } from './request';

@ApiTags('access')
@Controller('v1')
@UseGuards(ThrottlerGuard)
export class MachineTokensController {
  constructor(@Inject(MachineTokensService) private readonly tokens: MachineTokensService) {}

  @Post('api-keys')
  @UseGuards(AccessGuard)
  @Roles('admin')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Create an API key for a machine client of your tenant; the key is shown only now',
  })
  @ApiBody({ schema: openApi(apiKeyBodySchema) })
  createKey(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const { client, roles } = parsed(apiKeyBodySchema, body, 'body');
    return this.tokens.createKey(principal, client, roles);
  }

  @Post('tokens')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange an API key for a short-lived bearer token' })
  @ApiBody({ schema: openApi(tokenBodySchema) })
  @ApiResponse({ status: 200, description: '{ access_token, token_type: Bearer, expires_in }' })
  @ApiResponse({ status: 401, description: 'invalid-api-key' })
  mint(@Body() body: unknown) {
    return this.tokens.mint(parsed(tokenBodySchema, body, 'body').apiKey);
  }
}
