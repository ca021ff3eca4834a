import { type CloudEvent } from '@keel/contracts';
import {
  type AuditChain,
  type AuditEntry,
  type AuditRow,
  type ChainHead,
  type ChainVerdict,
  type JsonValue,
} from '@keel/governance-domain';
import type { EntityManager } from 'typeorm';
import { type AuditLog } from '../persistence/audit-log.repository';
import { type Transactions } from '../persistence/transactions';

/** Rows read per round trip when verifying or exporting a chain. */
const pageSize = 5_000;

/** The audit log's use cases: append consumed events to their tenant's chain, verify it, export it. */
export class AuditService {
  constructor(
    private readonly log: AuditLog,
    private readonly transactions: Transactions,
    private readonly chain: AuditChain,
  ) {}

  /**
   * Appends events (of one topic) to their tenants' chains inside the caller's transaction, so a consumed
   * event's row and its processed-event id commit together.
   */
  async record(manager: EntityManager, topic: string, events: readonly CloudEvent[]): Promise<AuditRow[]> {
    const byTenant = new Map<string, AuditEntry[]>();
    for (const event of events) {
      const entries = byTenant.get(event.tenant) ?? [];
      entries.push({
        eventId: event.id,
        topic,
        type: event.type,
        subject: event.subject,
        occurredAt: event.time,
        event: JSON.parse(JSON.stringify(event)) as JsonValue,
      });
      byTenant.set(event.tenant, entries);
    }
    const appended: AuditRow[] = [];
    // Tenants in a fixed order, so two transactions never take the same heads in opposite orders.
    for (const tenant of [...byTenant.keys()].sort()) {
      const head = await this.log.lockHead(manager, tenant);
      const rows = this.chain.append(tenant, head, byTenant.get(tenant) ?? []);
      await this.log.append(manager, tenant, rows);
      appended.push(...rows);
    }
    return appended;
  }

  /** Walks the tenant's whole chain page by page; the verdict names the first broken row. */
  verify(tenant: string): Promise<ChainVerdict> {
    return this.transactions.run(async (manager) => {
      let head: ChainHead | undefined;
      let rows = 0;
      for (;;) {
        const page = await this.log.page(manager, tenant, head?.position ?? 0, pageSize);
        const verdict = this.chain.verify(tenant, page, head);
        if (!verdict.intact) return { ...verdict, rows: rows + verdict.rows };
        rows += verdict.rows;
        if (page.length < pageSize) return { intact: true, rows, head: verdict.head };
        head = verdict.head;
      }
    });
  }

  /** The tenant's rows in chain order, a page at a time (for a JSON-lines export). */
  async *export(tenant: string): AsyncGenerator<AuditRow> {
    let after = 0;
    for (;;) {
      const page = await this.transactions.run((manager) => this.log.page(manager, tenant, after, pageSize));
      yield* page;
      const last = page.at(-1);
      if (last === undefined || page.length < pageSize) return;
      after = last.position;
    }
  }

  /** A case's audit rows in the order they happened. */
  ofCase(tenant: string, subject: string): Promise<AuditRow[]> {
    return this.transactions.run((manager) => this.log.ofCase(manager, tenant, subject));
  }
}
