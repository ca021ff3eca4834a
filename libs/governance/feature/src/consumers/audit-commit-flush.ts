import type { EntitySubscriberInterface, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { type AuditService } from '../application/audit.service';

/**
 * Appends the audit rows staged on a transaction just before it commits (TypeORM's transaction hook), so all of
 * a consumer run's events go into their chains in one multi-row insert per tenant, within the run's
 * transaction. A failing append fails the commit: the run's processed-event ids roll back with it and the
 * records are redelivered (docs/adr/0015-audit-ingest-and-retention.md).
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
