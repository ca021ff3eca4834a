import { AccessGuard, CurrentPrincipal, type Principal, Roles } from '@keel/access';
import { Controller, Get, Inject, Param, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { z } from 'zod';
import { AuditService } from '../application/audit.service';
import { parsed } from './request';

interface StreamResponse {
  setHeader(name: string, value: string): void;
  write(chunk: string): boolean;
  end(): void;
  once(event: 'drain', listener: () => void): void;
}

const casePathSchema = z.object({ caseId: z.string().min(1).max(200) });

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
  @ApiOperation({ summary: "The tenant's chain as JSON lines, one row per line, in chain order" })
  @ApiProduces('application/x-ndjson')
  async export(@CurrentPrincipal() principal: Principal, @Res() response: StreamResponse): Promise<void> {
    response.setHeader('content-type', 'application/x-ndjson');
    for await (const row of this.audit.export(principal.tenant)) {
      if (!response.write(`${JSON.stringify(row)}\n`))
        await new Promise<void>((resolve) => response.once('drain', resolve));
    }
    response.end();
  }
}
