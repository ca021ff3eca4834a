import { AccessGuard, CurrentPrincipal, type Principal, Roles } from '@keel/access';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { AuditService } from '../application/audit.service';
import { casePathSchema, openApi, parsed, retentionBodySchema } from './request';

interface StreamResponse {
  setHeader(name: string, value: string): void;
  write(chunk: string): boolean;
  end(): void;
  once(event: 'drain', listener: () => void): void;
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
@UseGuards(ThrottlerGuard, AccessGuard)
@Roles('viewer')
export class AuditController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  @Get('verify')
  @ApiOperation({
    summary: "Walk the tenant's hash chain",
    description:
      '{ intact: true, rows, head } or { intact: false, position, reason, rows }: the first broken row.',
  })
  verify(@CurrentPrincipal() principal: Principal) {
    return this.audit.verify(principal.tenant);
  }

  @Get('cases/:caseId')
  @ApiOperation({ summary: "A case's audit rows in the order they happened" })
  ofCase(@CurrentPrincipal() principal: Principal, @Param() params: unknown) {
    const { caseId } = parsed(casePathSchema, params, 'path');
    return this.audit.ofCase(principal.tenant, caseId);
  }

  @Get('export')
  @Roles('operator')
  @ApiOperation({
    summary: "The tenant's chain as JSON lines, one row per line, in chain order",
    description:
      'After a retention cut the first line is `{ "checkpoint": { position, rowHash, prunedAt, prunedRows, ' +
      'signature } }`: the signed head the first row links to.',
  })
  @ApiProduces('application/x-ndjson')
  async export(@CurrentPrincipal() principal: Principal, @Res() response: StreamResponse): Promise<void> {
    response.setHeader('content-type', 'application/x-ndjson');
    for await (const row of this.audit.export(principal.tenant)) {
      if (!response.write(`${JSON.stringify(row)}\n`))
        await new Promise<void>((resolve) => response.once('drain', resolve));
    }
    response.end();
  }

  @Post('retention')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({
    summary: "Prune the tenant's rows recorded before an instant",
    description:
      'Verifies the rows first (a broken chain is not cut: 409 chain-broken), stores a checkpoint signed with ' +
      'the chain key at the last pruned row, deletes the rows up to it; `verify` starts from the checkpoint.',
  })
  @ApiBody({ schema: openApi(retentionBodySchema) })
  @ApiResponse({ status: 409, description: 'chain-broken' })
  prune(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const { before } = parsed(retentionBodySchema, body, 'body');
    return this.audit.prune(principal.tenant, new Date(before));
  }
}
