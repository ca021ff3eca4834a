import { CurrentPrincipal, type Principal, ProtectedApi, Roles, assertTenant } from '@keel/access';
import {
  type ContextQueryResponse,
  contextQueryPath,
  contextQueryRequestSchema,
  contextQueryResponseSchema,
} from '@keel/contracts';
import { KnowledgeRetrieval, RetrievalError, type VectorStore } from '@keel/retrieval-domain';
import { Body, Controller, Delete, HttpCode, Inject, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { DocumentRegistryRepository } from './document-registry.repository';

export const VECTOR_STORE = Symbol('keel.retrieval.vector-store');

const documentPathSchema = z.object({
  tenant: z.string().min(1).max(200),
  documentId: z.string().min(1).max(200),
});

/**
 * The query API the agent calls (ADR 0007), and deletion of a document. A caller reads and deletes only its
 * token's tenant's knowledge: a body or path naming another tenant is refused (403).
 */
@ApiTags('retrieval')
@Controller()
@ProtectedApi()
@Roles('viewer')
export class ContextQueriesController {
  constructor(
    @Inject(KnowledgeRetrieval) private readonly retrieval: KnowledgeRetrieval,
    @Inject(VECTOR_STORE) private readonly store: VectorStore,
    @Inject(DocumentRegistryRepository) private readonly registry: DocumentRegistryRepository,
    private readonly dataSource: DataSource,
  ) {}

  @Post(contextQueryPath)
  @HttpCode(200)
  @ApiOperation({ summary: "Chunks of the tenant's knowledge for a query (hybrid, dense or sparse)" })
  @ApiBody({
    schema: z.toJSONSchema(contextQueryRequestSchema, { io: 'input', target: 'openapi-3.0' }) as object,
  })
  @ApiResponse({ status: 400, description: 'invalid-request' })
  async query(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
  ): Promise<ContextQueryResponse> {
    // Checked before the schema, so a request for another tenant is refused as such whatever else it holds.
    const named = (body as { tenant?: unknown } | null)?.tenant;
    if (typeof named === 'string') assertTenant(principal, named, 'the query');
    const parsed = contextQueryRequestSchema.safeParse(body);
    if (!parsed.success) throw new RetrievalError('invalid-request', parsed.error.message);
    const request = parsed.data;
    const chunks = await this.retrieval.retrieve(request);
    return contextQueryResponseSchema.parse({
      tenant: request.tenant,
      mode: request.mode,
      chunks: chunks.map((chunk) => ({
        ...chunk,
        headingPath: [...chunk.headingPath],
        tags: [...chunk.tags],
      })),
    });
  }

  // The guard refuses a `:tenant` other than the token's.
  @Delete('/v1/tenants/:tenant/documents/:documentId')
  @HttpCode(204)
  @Roles('operator')
  @ApiOperation({ summary: "Delete a document from the tenant's index (the topic has no delete event)" })
  @ApiResponse({ status: 404, description: 'no indexed document' })
  async delete(@Param() params: unknown): Promise<void> {
    const path = documentPathSchema.safeParse(params);
    if (!path.success) throw new RetrievalError('invalid-request', path.error.message);
    const { tenant, documentId } = path.data;
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.registry.recordDeleted(manager, tenant, documentId))) {
        throw new NotFoundException(`no indexed document ${documentId} for tenant ${tenant}`);
      }
      await this.store.deleteDocument(tenant, documentId);
    });
  }
}
