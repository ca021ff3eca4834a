import {
  type ContextQueryResponse,
  contextQueryPath,
  contextQueryRequestSchema,
  contextQueryResponseSchema,
} from '@keel/contracts';
import { KnowledgeRetrieval, RetrievalError, type VectorStore } from '@keel/retrieval-domain';
import { Body, Controller, Delete, HttpCode, Inject, NotFoundException, Param, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DocumentRegistryRepository } from './document-registry.repository';

export const VECTOR_STORE = Symbol('keel.retrieval.vector-store');

/** The query API the agent calls (ADR 0007), and deletion of a document. */
@Controller()
export class ContextQueriesController {
  constructor(
    @Inject(KnowledgeRetrieval) private readonly retrieval: KnowledgeRetrieval,
    @Inject(VECTOR_STORE) private readonly store: VectorStore,
    @Inject(DocumentRegistryRepository) private readonly registry: DocumentRegistryRepository,
    private readonly dataSource: DataSource,
  ) {}

  @Post(contextQueryPath)
  @HttpCode(200)
  async query(@Body() body: unknown): Promise<ContextQueryResponse> {
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

  @Delete('/v1/tenants/:tenant/documents/:documentId')
  @HttpCode(204)
  async delete(@Param('tenant') tenant: string, @Param('documentId') documentId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.registry.recordDeleted(manager, tenant, documentId))) {
        throw new NotFoundException(`no indexed document ${documentId} for tenant ${tenant}`);
      }
      await this.store.deleteDocument(tenant, documentId);
    });
  }
}
