import { type CloudEvent } from '@keel/contracts';
import {
  AuditChain,
  type AuditRow,
  type ChainCheckpoint,
  type ChainHead,
  GovernanceError,
} from '@keel/governance-domain';
import type { EntityManager } from 'typeorm';
import { type AuditLog } from '../persistence/audit-log.repository';
import { type Transactions } from '../persistence/transactions';
import { AuditService } from './audit.service';

/** The audit log in memory: the service's chain and staging logic without Postgres. */
class MemoryAuditLog implements AuditLog {
  readonly rows = new Map<string, AuditRow[]>();
  readonly checkpoints: ChainCheckpoint[] = [];
  recordedAt = new Map<string, Date>();
  appends = 0;

  lockHead(_manager: EntityManager, tenant: string): Promise<ChainHead | undefined> {
    const last = this.rows.get(tenant)?.at(-1);
    const cut = this.checkpoints.filter((checkpoint) => checkpoint.tenant === tenant).at(-1);
    const head = last ?? (cut && { position: cut.position, rowHash: cut.rowHash });
    return Promise.resolve(head && { position: head.position, rowHash: head.rowHash });
  }
  append(_manager: EntityManager, tenant: string, rows: readonly AuditRow[]): Promise<void> {
    this.appends += 1;
    this.rows.set(tenant, [...(this.rows.get(tenant) ?? []), ...rows]);
    return Promise.resolve();
  }
  page(_manager: EntityManager, tenant: string, after: number, limit: number): Promise<AuditRow[]> {
    return Promise.resolve(
      (this.rows.get(tenant) ?? []).filter((row) => row.position > after).slice(0, limit),
    );
  }
  ofCase(_manager: EntityManager, tenant: string, subject: string): Promise<AuditRow[]> {
    return Promise.resolve((this.rows.get(tenant) ?? []).filter((row) => row.subject === subject));
  }
  lineageOf(manager: EntityManager, tenant: string, subject: string): Promise<AuditRow[]> {
    return this.ofCase(manager, tenant, subject);
  }
  latestCheckpoint(_manager: EntityManager, tenant: string): Promise<ChainCheckpoint | undefined> {
    return Promise.resolve(this.checkpoints.filter((checkpoint) => checkpoint.tenant === tenant).at(-1));
  }
  firstRecordedSince(
    _manager: EntityManager,
    tenant: string,
    after: number,
    since: Date,
  ): Promise<number | undefined> {
    const row = (this.rows.get(tenant) ?? []).find(
      (candidate) =>
        candidate.position > after && (this.recordedAt.get(candidate.eventId) ?? new Date()) >= since,
    );
    return Promise.resolve(row?.position);
  }
  prune(_manager: EntityManager, checkpoint: ChainCheckpoint): Promise<number> {
    this.checkpoints.push(checkpoint);
    const rows = this.rows.get(checkpoint.tenant) ?? [];
    this.rows.set(
      checkpoint.tenant,
      rows.filter((row) => row.position > checkpoint.position),
    );
    return Promise.resolve(rows.filter((row) => row.position <= checkpoint.position).length);
  }
}

const manager = () => ({}) as EntityManager;
const transactions: Transactions = { run: (work) => work(manager()) };
const event = (id: string, tenant = 'acme'): CloudEvent => ({
  specversion: '1.0',
  id,
  source: 'urn:keel:test',
  type: 'keel.test.sampled',
  time: '2026-12-01T10:00:00.000Z',
  subject: 'case-1',
  dataschema: 'keel.case.event@1',
  datacontenttype: 'application/json',
  tenant,
  correlationid: 'c',
  idempotencykey: id,
  data: { n: id },
});

describe('AuditService', () => {
  const setUp = () => {
    const log = new MemoryAuditLog();
    const audit = new AuditService(
      log,
      transactions,
      new AuditChain('k'.repeat(32)),
      () => new Date('2026-12-02T00:00:00Z'),
    );
    return { log, audit };
  };

  it('appends what a transaction staged, in order and once per tenant, only when it commits', async () => {
    const { log, audit } = setUp();
    const committed = manager();
    const rolledBack = manager();
    audit.stage(committed, 'keel.cases.events.v1', event('e-1'));
    audit.stage(rolledBack, 'keel.cases.events.v1', event('e-x'));
    audit.stage(committed, 'keel.cases.events.v1', event('e-2', 'globex'));
    audit.stage(committed, 'keel.cases.events.v1', event('e-3'));
    expect(log.appends).toBe(0);
    audit.discardStaged(rolledBack);
    await audit.flushStaged(rolledBack);
    const rows = await audit.flushStaged(committed);
    expect(log.appends).toBe(2);
    expect(rows.map((row) => [row.tenant, row.position, row.eventId])).toEqual([
      ['acme', 1, 'e-1'],
      ['acme', 2, 'e-3'],
      ['globex', 1, 'e-2'],
    ]);
    // A second flush of the same transaction appends nothing.
    expect(await audit.flushStaged(committed)).toEqual([]);
    expect(await audit.verify('acme')).toMatchObject({ intact: true, rows: 2 });
  });

  it('refuses, at staging, an event Postgres could never store, so it fails alone', () => {
    const { audit } = setUp();
    const bad = { ...event('e-nul'), data: { text: 'a\u0000b' } };
    expect(() => audit.stage(manager(), 'keel.cases.events.v1', bad)).toThrow(GovernanceError);
    expect(() =>
      audit.stage(manager(), 'keel.cases.events.v1', { ...event('e-ok'), data: { text: 'a\\u0000b' } }),
    ).not.toThrow();
  });

  it('prunes up to the first row recorded since the instant, and verifies from the checkpoint after', async () => {
    const { log, audit } = setUp();
    const tx = manager();
    for (const id of ['e-1', 'e-2', 'e-3', 'e-4']) audit.stage(tx, 'keel.cases.events.v1', event(id));
    await audit.flushStaged(tx);
    log.recordedAt.set('e-1', new Date('2025-01-01T00:00:00Z'));
    log.recordedAt.set('e-2', new Date('2025-01-01T00:00:00Z'));
    const outcome = await audit.prune('acme', new Date('2026-01-01T00:00:00Z'));
    expect(outcome).toMatchObject({
      prunedRows: 2,
      checkpoint: { position: 2, prunedRows: 2, prunedAt: '2026-12-02T00:00:00.000Z' },
    });
    expect(await audit.verify('acme')).toMatchObject({ intact: true, rows: 2, head: { position: 4 } });
    // Nothing older is left: a second run prunes nothing; appends continue from the head.
    expect(await audit.prune('acme', new Date('2026-01-01T00:00:00Z'))).toEqual({ prunedRows: 0 });
    audit.stage(tx, 'keel.cases.events.v1', event('e-5'));
    await audit.flushStaged(tx);
    expect(await audit.verify('acme')).toMatchObject({ intact: true, rows: 3, head: { position: 5 } });
  });

  it('does not cut a chain that fails to verify', async () => {
    const { log, audit } = setUp();
    const tx = manager();
    for (const id of ['e-1', 'e-2', 'e-3']) audit.stage(tx, 'keel.cases.events.v1', event(id));
    await audit.flushStaged(tx);
    const rows = log.rows.get('acme') ?? [];
    rows[0] = { ...rows[0], subject: 'tampered' };
    await expect(audit.prune('acme', new Date('2030-01-01T00:00:00Z'))).rejects.toMatchObject({
      code: 'chain-broken',
    });
    expect(log.checkpoints).toEqual([]);
  });
});
