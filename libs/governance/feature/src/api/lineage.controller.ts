import { AccessGuard, CurrentPrincipal, type Principal, Roles } from '@keel/access';
import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { caseLineage } from '@keel/governance-domain';
import { AuditService } from '../application/audit.service';
import { casePathSchema, parsed } from './request';

@ApiTags('lineage')
@ApiBearerAuth()
@Controller('v1/cases')
@UseGuards(ThrottlerGuard, AccessGuard)
@Roles('viewer')
export class LineageController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  @Get(':caseId/lineage')
  @ApiOperation({
    summary: "A case's lineage from the audit log, in order with timestamps",
    description:
      'source event → normalized event → retrieved chunks → decision (model, prompt, policy and guardrail ' +
      'versions, release, rule trace) → workflow commands, steps and actions → approvals; each entry names ' +
      'its audit chain position.',
  })
  async lineage(@CurrentPrincipal() principal: Principal, @Param() params: unknown) {
    const { caseId } = parsed(casePathSchema, params, 'path');
    return caseLineage(caseId, await this.audit.lineageRows(principal.tenant, caseId));
  }
}
