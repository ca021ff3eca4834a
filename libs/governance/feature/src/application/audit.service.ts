import { type CloudEvent } from '@keel/contracts';
import {
  type AuditChain,
  type AuditEntry,
  type AuditRow,
  type ChainBroken,
  type ChainCheckpoint,
  type ChainHead,
  type ChainVerdict,
  GovernanceError,
  type JsonValue,
  type PreparedEntry,
} from '@keel/governance-domain';
import type { EntityManager } from 'typeorm';
import { type AuditLog } from '../persistence/audit-log.repository';
import { type Transactions } from '../persistence/transactions';

/** A NUL character as JSON writes it (`\u0000` after an even run of backslashes, so not an escaped `\`). */
const nulEscape = /(?<!\\)(?:\\\\)*\\u0000/;

/** Rows read per round trip when verifying or exporting a chain. */
const pageSize = 5_000;

/** What one retention run did to a tenant's chain. */
export interface RetentionOutcome {
  /** Rows removed by this run. */
  readonly prunedRows: number;
  /** The signed head at the cut, or undefined when nothing was old enough. */
  readonly checkpoint?: ChainCheckpoint;
}

/**
 * The audit log's use cases: append consumed events to their tenant's chain, verify it, export it, prune it.
 *
 * Consumed events are *staged* on their transaction and appended when it commits (`flushStaged`, called by
 * `AuditCommitFlush` before the commit): a consumer run of many records then locks each tenant's head once and
 * writes its rows in one multi-row insert, instead of a lock, an insert and a head update per record
 * (docs/adr/0015-audit-ingest-and-retention.md).
 */
export class AuditService {
  private readonly staged = new WeakMap<EntityManager, StagedEntry[]>();

  constructor(
    private readonly log: AuditLog,
    private readonly transactions: Transactions,
    private readonly chain: AuditChain,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Stages a consumed event on the caller's transaction; its row is appended, in staging order, when that
   * transaction commits, so the row and the consumer's processed-event id commit together.
   *
   * @throws GovernanceError `invalid-request` for an event Postgres could never store (a NUL character, which
   *   `jsonb` refuses): refused here, so it is dead-lettered alone instead of failing the whole run's commit.
   */
  stage(manager: EntityManager, topic: string, event: CloudEvent): void {
    const entries = this.staged.get(manager) ?? [];
    entries.push(this.prepared(topic, event));
    this.staged.set(manager, entries);
  }

  /** Appends what was staged on this transaction (nothing when nothing was); called just before it commits. */
  async flushStaged(manager: EntityManager): Promise<AuditRow[]> {
    const entries = this.staged.get(manager);
    if (entries === undefined) return [];
    this.staged.delete(manager);
    return this.appendEntries(manager, entries);
  }

  /** Forgets what was staged on a transaction that rolled back. */
  discardStaged(manager: EntityManager): void {
    this.staged.delete(manager);
  }

  /** Appends events (of one topic) to their tenants' chains now, inside the caller's transaction. */
  record(manager: EntityManager, topic: string, events: readonly CloudEvent[]): Promise<AuditRow[]> {
    return this.appendEntries(
      manager,
      events.map((event) => this.prepared(topic, event)),
    );
  }

  /**
   * Everything of an entry that does not depend on the chain's head — its event's canonical JSON and stored
   * text — computed before the head is locked, so the lock is held only for the HMACs, the insert and the
   * commit (what bounds one tenant's append rate).
   */
  private prepared(topic: string, event: CloudEvent): StagedEntry {
    const text = JSON.stringify(event);
    if (nulEscape.test(text))
      throw new GovernanceError('invalid-request', `event ${event.id} carries a NUL character; not storable`);
    return { tenant: event.tenant, prepared: this.chain.prepare(entryOf(topic, event)), text };
  }

  private async appendEntries(manager: EntityManager, entries: readonly StagedEntry[]): Promise<AuditRow[]> {
    const byTenant = new Map<string, StagedEntry[]>();
    for (const staged of entries) {
      const list = byTenant.get(staged.tenant) ?? [];
      list.push(staged);
      byTenant.set(staged.tenant, list);
    }
    const appended: AuditRow[] = [];
    // Tenants in a fixed order, so two transactions never take the same heads in opposite orders.
    for (const tenant of [...byTenant.keys()].sort()) {
      const staged = byTenant.get(tenant) ?? [];
      const head = await this.log.lockHead(manager, tenant);
      const rows = this.chain.append(
        tenant,
        head,
        staged.map((entry) => entry.prepared),
      );
      await this.log.append(
        manager,
        tenant,
        rows,
        staged.map((entry) => entry.text),
      );
      appended.push(...rows);
    }
    return appended;
  }

  /**
   * Walks the tenant's chain page by page from its newest retention checkpoint (or its first row); the verdict
   * names the first broken row, or a forged checkpoint.
   */
  verify(tenant: string): Promise<ChainVerdict> {
    return this.transactions.run(async (manager) => {
      const checkpoint = await this.log.latestCheckpoint(manager, tenant);
      const start = checkpoint === undefined ? undefined : this.chain.verifyFrom(tenant, checkpoint);
      if (start !== undefined && 'intact' in start) return start;
      return this.walk(manager, tenant, start, Number.POSITIVE_INFINITY);
    });
  }

  /** The tenant's retention checkpoint (if pruned) and rows in chain order, a page at a time. */
  async *export(tenant: string): AsyncGenerator<{ checkpoint: ChainCheckpoint } | AuditRow> {
    const checkpoint = await this.transactions.run((manager) => this.log.latestCheckpoint(manager, tenant));
    if (checkpoint !== undefined) yield { checkpoint };
    let after = checkpoint?.position ?? 0;
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

  /** A case's rows with the raw source events they came from, in chain order (lineage's input). */
  lineageRows(tenant: string, subject: string): Promise<AuditRow[]> {
    return this.transactions.run((manager) => this.log.lineageOf(manager, tenant, subject));
  }

  /**
   * Prunes the tenant's rows recorded before `before`: first verifies them (a broken chain is never cut, as
   * the cut would hide the break), then stores a checkpoint signed with the chain key at the last pruned row
   * and deletes the rows up to it, in one transaction, so `verify` starts from the checkpoint afterwards.
   *
   * @throws GovernanceError `chain-broken` when the rows to prune do not verify.
   */
  prune(tenant: string, before: Date): Promise<RetentionOutcome> {
    return this.transactions.run(async (manager) => {
      // The head lock keeps appends out while the cut is chosen (they never touch old rows, but a cut at the
      // head must see it settled).
      const head = await this.log.lockHead(manager, tenant);
      if (head === undefined) return { prunedRows: 0 };
      const previous = await this.log.latestCheckpoint(manager, tenant);
      const start = previous === undefined ? undefined : this.chain.verifyFrom(tenant, previous);
      if (start !== undefined && 'intact' in start) throw chainBroken(start);
      const firstKept = await this.log.firstRecordedSince(manager, tenant, start?.position ?? 0, before);
      const cut = firstKept === undefined ? head.position : firstKept - 1;
      if (cut <= (start?.position ?? 0)) return { prunedRows: 0 };
      const verdict = await this.walk(manager, tenant, start, cut);
      if (!verdict.intact) throw chainBroken(verdict);
      const checkpoint = this.chain.checkpoint(tenant, verdict.head, {
        prunedAt: this.now().toISOString(),
        prunedRows: cut - (start?.position ?? 0),
      });
      const prunedRows = await this.log.prune(manager, checkpoint);
      return { prunedRows, checkpoint };
    });
  }

  /** Verifies rows after `from` up to position `until`, page by page. */
  private async walk(
    manager: EntityManager,
    tenant: string,
    from: ChainHead | undefined,
    until: number,
  ): Promise<ChainVerdict> {
    let head = from;
    let rows = 0;
    for (;;) {
      const after = head?.position ?? 0;
      const limit = Math.min(pageSize, until - after);
      const page = limit <= 0 ? [] : await this.log.page(manager, tenant, after, limit);
      const verdict = this.chain.verify(tenant, page, head);
      if (!verdict.intact) return { ...verdict, rows: rows + verdict.rows };
      rows += verdict.rows;
      if (page.length < limit || limit <= 0 || verdict.head.position >= until)
        return { intact: true, rows, head: verdict.head };
      head = verdict.head;
    }
  }
}

interface StagedEntry {
  readonly tenant: string;
  readonly prepared: PreparedEntry;
  /** The event as stored (`JSON.stringify`), computed once for the NUL check and the insert. */
  readonly text: string;
}

function entryOf(topic: string, event: CloudEvent): AuditEntry {
  return {
    eventId: event.id,
    topic,
    type: event.type,
    subject: event.subject,
    occurredAt: event.time,
    // A consumed event is decoded JSON already (no dates, no functions): hashed and stored as it is, and what
    // `jsonb` gives back to verify hashes the same (canonical JSON drops `undefined` members as JSON does).
    event: event as unknown as JsonValue,
  };
}

function chainBroken(verdict: ChainBroken): GovernanceError {
  return new GovernanceError(
    'chain-broken',
    `the chain is broken at position ${verdict.position} (${verdict.reason}); it is not pruned`,
    { details: verdict },
  );
}
