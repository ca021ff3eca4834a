import { CurrentPrincipal, type Principal, ProtectedApi, Roles, assertTenant } from '@keel/access';
import { eventSubmissionSchema } from '@keel/ingestion-domain';
import { Body, Controller, Get, Headers, Inject, Post, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';
import { HttpSubmissions } from '../application/http-submissions';
import { LiveSourceCatalog } from '../schemas/live-source-catalog';

interface StatusResponse {
  status(code: number): unknown;
}

// The OpenAPI schemas are generated from the zod schemas that validate, so the document cannot drift.
const submissionOpenApi = z.toJSONSchema(eventSubmissionSchema, {
  io: 'input',
  target: 'openapi-3.0',
}) as SchemaObject;
const batchOpenApi = z.toJSONSchema(
  z.object({
    events: z
      .array(eventSubmissionSchema)
      .min(1)
      .describe('at most INGESTION_MAX_BATCH_EVENTS (default 500); each event is judged on its own'),
  }),
  { io: 'input', target: 'openapi-3.0' },
) as SchemaObject;
const requestOpenApi: SchemaObject = { oneOf: [submissionOpenApi, batchOpenApi] };
const violationsOpenApi: SchemaObject = {
  type: 'object',
  properties: {
    error: { type: 'string', description: 'stable code, e.g. invalid-payload' },
    message: { type: 'string' },
    violations: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

/**
 * The tenants a body names (each event's, in a batch), read before validation so that a request for
 * another tenant is refused as such (403) whatever else is wrong with it; a missing or malformed tenant is
 * left to the schema (400/422).
 */
function tenantsNamedIn(body: unknown): string[] {
  const events: unknown[] =
    typeof body === 'object' && body !== null && 'events' in body && Array.isArray(body.events)
      ? (body.events as unknown[])
      : [body];
  return events.flatMap((event) =>
    typeof event === 'object' && event !== null && 'tenant' in event && typeof event.tenant === 'string'
      ? [event.tenant]
      : [],
  );
}

@ApiTags('ingestion')
@Controller('v1')
@ProtectedApi()
@Roles('viewer')
export class EventsController {
  constructor(
    @Inject(HttpSubmissions) private readonly submissions: HttpSubmissions,
    @Inject(LiveSourceCatalog) private readonly catalog: LiveSourceCatalog,
  ) {}

  @Post('events')
  @Roles('operator')
  @ApiOperation({
    summary: 'Send one source event, or a batch as { events: [...] }',
    description:
      'Each event is validated against its source schema (system, schemaVersion), mapped onto a case event or ' +
      'knowledge document and accepted once per idempotency key (tenant/system/source event id). Every ' +
      "event must name the token's tenant; one naming another refuses the whole request (403 wrong-tenant).",
  })
  @ApiBody({ schema: requestOpenApi })
  @ApiHeader({ name: 'x-correlation-id', required: false, description: 'carried onto the emitted events' })
  @ApiResponse({ status: 202, description: 'one event accepted: { outcome, eventId, subject, topic }' })
  @ApiResponse({ status: 200, description: 'one event already accepted under its key (duplicate)' })
  @ApiResponse({
    status: 207,
    description: 'a batch: { accepted, duplicates, rejected, results[] } per item',
  })
  @ApiResponse({
    status: 400,
    description: 'malformed request or payload too deep',
    schema: violationsOpenApi,
  })
  @ApiResponse({ status: 413, description: 'body larger than the limit' })
  @ApiResponse({
    status: 422,
    description: 'unknown source, version or event type; invalid payload',
    schema: violationsOpenApi,
  })
  @ApiResponse({
    status: 503,
    description: 'the store or Kafka cannot take events now; retry after Retry-After',
  })
  async submit(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Headers('x-correlation-id') correlationId: string | undefined,
    @Res({ passthrough: true }) response: StatusResponse,
  ) {
    for (const tenant of tenantsNamedIn(body)) assertTenant(principal, tenant, 'an event');
    const answer = await this.submissions.submit(body, { correlationId });
    if (answer.kind === 'single') {
      response.status(answer.result.outcome === 'accepted' ? 202 : 200);
      return answer.result;
    }
    response.status(207);
    const count = (outcome: string) => answer.results.filter((result) => result.outcome === outcome).length;
    return {
      accepted: count('accepted'),
      duplicates: count('duplicate'),
      rejected: count('rejected'),
      results: answer.results,
    };
  }

  @Get('sources')
  @ApiOperation({ summary: 'The source systems, their schema versions and event types' })
  sources() {
    return this.catalog.list();
  }
}
