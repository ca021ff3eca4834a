import { AccessGuard, CurrentPrincipal, type Principal, Roles } from '@keel/access';
import { GovernanceError } from '@keel/governance-domain';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { z } from 'zod';
import { openApi, parsed, reasonBodySchema, releasePathSchema } from '../api/request';
import { DriftMonitor } from './drift-monitor.service';
import { ReplayGateService } from './replay-gate.service';
import { ShadowComparisonService } from './shadow-comparison.service';

const shadowQuerySchema = z.object({ window: z.coerce.number().int().min(1).max(50_000).default(2_000) });

@ApiTags('release quality')
@ApiBearerAuth()
@Controller('v1')
@UseGuards(ThrottlerGuard, AccessGuard)
@Roles('viewer')
export class QualityController {
  constructor(
    @Inject(ReplayGateService) private readonly gate: ReplayGateService,
    @Inject(ShadowComparisonService) private readonly shadow: ShadowComparisonService,
    @Inject(DriftMonitor) private readonly drift: DriftMonitor,
  ) {}

  @Post('releases/:id/replay')
  @Roles('operator')
  @ApiOperation({
    summary: 'Replay a release over the newest recorded production decisions (no model is called)',
    description:
      'Agreement with production, the decisions that would change (tool transitions and a list), divergences ' +
      "and outcomes where a person answered; the verdict against the release's bar, audited. A promotion of a " +
      'release that changes what decides needs a passed (or overridden) replay against the production in force.',
  })
  @ApiResponse({ status: 422, description: 'unreplayable-release or unknown-version' })
  replay(@CurrentPrincipal() principal: Principal, @Param() params: unknown) {
    const { id } = parsed(releasePathSchema, params, 'path');
    return this.gate.replay(principal, id);
  }

  @Get('releases/:id/replay')
  @ApiOperation({ summary: "The release's newest replay report" })
  @ApiResponse({ status: 404, description: 'not-found: never replayed' })
  latestReplay(@CurrentPrincipal() principal: Principal, @Param() params: unknown) {
    const { id } = parsed(releasePathSchema, params, 'path');
    return this.gate.latest(principal.tenant, id);
  }

  @Post('releases/:id/replay/override')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Let a release through its blocked replay gate, with a reason (audited)' })
  @ApiBody({ schema: openApi(reasonBodySchema) })
  @ApiResponse({ status: 409, description: 'override-not-needed' })
  override(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown) {
    const { id } = parsed(releasePathSchema, params, 'path');
    const { reason } = parsed(reasonBodySchema, body, 'body');
    return this.gate.override(principal, id, reason);
  }

  @Get('quality/shadow')
  @ApiOperation({
    summary: "Shadow agreement per version over the tenant's newest decisions, and the compared cases",
  })
  shadowAgreement(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const { window } = parsed(shadowQuerySchema, query, 'query');
    return this.shadow.compare(principal.tenant, window);
  }

  @Get('quality/drift')
  @ApiOperation({ summary: "The drift monitor's newest evaluation of the tenant's production release" })
  @ApiResponse({ status: 404, description: 'not-found: not evaluated yet' })
  latestDrift(@CurrentPrincipal() principal: Principal) {
    return this.drift.latest(principal.tenant);
  }

  @Post('quality/drift/evaluate')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({
    summary: 'Evaluate drift of the production release now (and roll it back where its release says so)',
  })
  @ApiResponse({ status: 404, description: 'not-found: no release in production' })
  async evaluateDrift(@CurrentPrincipal() principal: Principal) {
    const evaluation = await this.drift.evaluate(principal.tenant);
    if (evaluation === undefined) {
      throw new GovernanceError('not-found', `no release in production in '${principal.tenant}'`);
    }
    return evaluation;
  }
}
