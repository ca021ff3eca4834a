import type { CloudEvent, KnowledgeDocument } from '@keel/contracts';
import { KafkaEventContext, KafkaEventHandlers } from '@keel/messaging';
import { decideVersion, KnowledgeRetrieval, RetrievalError } from '@keel/retrieval-domain';
import { Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DocumentRegistryRepository } from './document-registry.repository';

/**
 * Indexes `keel.knowledge.documents.v1`, one document version at a time, for the event's tenant. The
 * registry row is locked in the consumer's transaction, so versions of one document never race; the index
 * is written before the transaction commits, so a crash between the two re-indexes the same version on
 * redelivery (replacing a version with itself changes nothing). An older version is skipped; the same
 * version with other content is dead-lettered: versions are immutable.
 */
@KafkaEventHandlers()
export class KnowledgeInboxController {
  private readonly logger = new Logger('KnowledgeInbox');

  constructor(
    @Inject(KnowledgeRetrieval) private readonly retrieval: KnowledgeRetrieval,
    @Inject(DocumentRegistryRepository) private readonly registry: DocumentRegistryRepository,
  ) {}

  @EventPattern('knowledgeDocuments')
  async onDocument(
    @Payload() event: CloudEvent<KnowledgeDocument>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    const document = event.data;
    const current = await this.registry.lock(context.manager, event.tenant, document.documentId);
    const decision = decideVersion(current, { version: document.version, contentHash: document.contentHash });
    switch (decision) {
      case 'unchanged':
        return;
      case 'stale':
        this.logger.log(
          `skipped ${document.documentId} v${document.version}: v${current?.version} is indexed (tenant ${event.tenant})`,
        );
        return;
      case 'conflict':
        throw new RetrievalError(
          'version-conflict',
          `document ${document.documentId} v${document.version} came again with other content; versions are immutable`,
        );
      case 'index': {
        const entry = await this.retrieval.index({ ...document, tenant: event.tenant });
        await this.registry.recordIndexed(context.manager, {
          tenant: event.tenant,
          documentId: document.documentId,
          version: document.version,
          contentHash: document.contentHash,
          title: document.title,
          chunkCount: entry.chunks.length,
        });
      }
    }
  }
}
