import { AccessGuard, CurrentPrincipal, type Principal, Roles } from '@keel/access';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ApprovalsInboxService } from '../application/approvals-inbox.service';
import { approvalListQuerySchema, approvalPathSchema, openApi, parsed, reasonBodySchema } from './request';

@ApiTags('approvals')
@ApiBearerAuth()
@Controller('v1/approvals')
@UseGuards(ThrottlerGuard, AccessGuard)
@Roles('viewer')
export class ApprovalsController {
  constructor(@Inject(ApprovalsInboxService) private readonly inbox: ApprovalsInboxService) {}

  @Get()
  @ApiOperation({
    summary: 'The inbox: workflow approval steps and guardrail holds, oldest first',
    description:
      '`status` (default pending), `role` (the approver role an item is routed to; escalated items carry the ' +
      'escalation role), `limit` (default 100, at most 500).',
  })
  list(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const { status, role, limit } = parsed(approvalListQuerySchema, query, 'query');
    return this.inbox.list(principal.tenant, {
      status,
      limit,
      ...(role === undefined ? {} : { approverRole: role }),
    });
  }

  @Get(':id')
  @ApiOperation({ summary: "One item with its case's lineage (the id URL-encoded: it contains '/')" })
  get(@CurrentPrincipal() principal: Principal, @Param() params: unknown) {
    const { id } = parsed(approvalPathSchema, params, 'path');
    return this.inbox.get(principal.tenant, id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Roles('approver')
  @ApiOperation({
    summary: 'Approve with a reason; never by the requester or the case author (four-eyes, 403)',
  })
  @ApiBody({ schema: openApi(reasonBodySchema) })
  @ApiResponse({ status: 409, description: 'not-pending: already answered or withdrawn' })
  approve(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown) {
    return this.answer(principal, params, body, true);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @Roles('approver')
  @ApiOperation({
    summary: 'Reject with a reason; never by the requester or the case author (four-eyes, 403)',
  })
  @ApiBody({ schema: openApi(reasonBodySchema) })
  @ApiResponse({ status: 409, description: 'not-pending: already answered or withdrawn' })
  reject(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown) {
    return this.answer(principal, params, body, false);
  }

  private answer(principal: Principal, params: unknown, body: unknown, approve: boolean) {
    const { id } = parsed(approvalPathSchema, params, 'path');
    const { reason } = parsed(reasonBodySchema, body, 'body');
    return this.inbox.answer({ subject: principal.subject, tenant: principal.tenant }, id, {
      approve,
      reason,
    });
  }
}
