import type { EntitySubscriberInterface, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { type AuditService } from '../application/audit.service';

/**
 * Appends the audit rows staged on a transaction just before it commits (TypeORM's transaction hook). Consumer
 * runs append their own rows at the end of the run (`AuditConsumer`), so this serves the transactions outside
 * them that stage rows — an approval answered over HTTP settling a hold. A failing append fails the commit
 * (docs/adr/0015-audit-ingest-and-retention.md).
 */
export class AuditCommitFlush implements EntitySubscriberInterface {
  constructor(private readonly audit: AuditService) {}

  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    await this.audit.flushStaged(event.manager);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    this.audit.discardStaged(event.manager);
  }
}
