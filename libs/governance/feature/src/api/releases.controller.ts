import { AccessGuard, CurrentPrincipal, type Principal, Roles } from '@keel/access';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ReleaseService } from '../application/release.service';
import {
  openApi,
  parsed,
  promoteBodySchema,
  proposalBodySchema,
  reasonBodySchema,
  releasePathSchema,
} from './request';

@ApiTags('releases')
@ApiBearerAuth()
@Controller('v1/releases')
@UseGuards(ThrottlerGuard, AccessGuard)
@Roles('viewer')
@ApiResponse({ status: 409, description: 'invalid-transition or nothing-to-roll-back' })
export class ReleasesController {
  constructor(@Inject(ReleaseService) private readonly releases: ReleaseService) {}

  @Get()
  @ApiOperation({ summary: "The tenant's releases with their state and history" })
  list(@CurrentPrincipal() principal: Principal) {
    return this.releases.list(principal.tenant);
  }

  @Post()
  @Roles('operator')
  @ApiOperation({ summary: 'Propose a release: registry versions of each kind and the model, as a draft' })
  @ApiBody({ schema: openApi(proposalBodySchema) })
  @ApiResponse({ status: 422, description: 'unknown-version' })
  propose(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    return this.releases.propose(principal, parsed(proposalBodySchema, body, 'body'));
  }

  @Post(':id/submit')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Send a draft for review' })
  submit(@CurrentPrincipal() principal: Principal, @Param() params: unknown) {
    const { id } = parsed(releasePathSchema, params, 'path');
    return this.releases.step(principal, { type: 'submit', releaseId: id });
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Roles('approver')
  @ApiOperation({ summary: 'Approve a release in review; never by its author (four-eyes, 403)' })
  approve(@CurrentPrincipal() principal: Principal, @Param() params: unknown) {
    const { id } = parsed(releasePathSchema, params, 'path');
    return this.releases.step(principal, { type: 'approve', releaseId: id });
  }

  @Post(':id/reject')
  @HttpCode(200)
  @Roles('approver')
  @ApiOperation({ summary: 'Reject a release in review, with a reason' })
  @ApiBody({ schema: openApi(reasonBodySchema) })
  reject(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown) {
    const { id } = parsed(releasePathSchema, params, 'path');
    const { reason } = parsed(reasonBodySchema, body, 'body');
    return this.releases.step(principal, { type: 'reject', releaseId: id, reason });
  }

  @Post(':id/promote')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Promote an approved release to shadow, or a shadow release to production' })
  @ApiBody({ schema: openApi(promoteBodySchema) })
  promote(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown) {
    const { id } = parsed(releasePathSchema, params, 'path');
    const { stage } = parsed(promoteBodySchema, body, 'body');
    return this.releases.step(principal, { type: 'promote', releaseId: id, stage });
  }

  @Post('rollback')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Re-activate the previous production release' })
  @ApiBody({ schema: openApi(reasonBodySchema) })
  rollback(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const { reason } = parsed(reasonBodySchema, body, 'body');
    return this.releases.step(principal, { type: 'rollback', reason });
  }
}
