import { buildEvent, topics } from '@keel/contracts';
import { MessagingSchema, messagingTablesMigration, OutboxWriter } from '@keel/messaging';
import { createServiceDataSource, runServiceMigrations, serviceSchemaMigration } from '@keel/persistence';
import { scratchDatabase, type ScratchDatabase } from '@keel/testing';
import type { DataSource } from 'typeorm';
import { PostgresIdempotencyKeys } from './idempotency-keys.repository';
import { IngestionTables1764100000000 } from './ingestion-tables.migration';
import { PostgresPublishBacklog } from './publish-backlog.repository';

describe('ingestion repositories on Postgres', () => {
  let database: ScratchDatabase;
  let dataSource: DataSource;
  const keys = new PostgresIdempotencyKeys('ingestion', new OutboxWriter(new MessagingSchema('ingestion')));
  const backlog = new PostgresPublishBacklog('ingestion');
  const accepted = (key: string) => ({
    key,
    eventId: `id-${key}`,
    topic: 'keel.cases.events.v1',
    subject: `case-${key}`,
  });
  /** A claim of `key` without events, for the keys' own behaviour. */
  const bare = (key: string, overrides: Partial<ReturnType<typeof accepted>> = {}) => ({
    accepted: { ...accepted(key), ...overrides },
    events: [],
  });
  const withEvent = (key: string, note: string) => ({
    accepted: accepted(key),
    events: [
      {
        topic: topics.caseEvents,
        event: buildEvent(topics.caseEvents, {
          id: `id-${key}-${note}`,
          source: 'urn:keel:ingestion',
          type: 'order.placed',
          time: '2026-12-03T06:00:00.000Z',
          subject: `case-${key}`,
          tenant: 'acme',
          correlationid: `id-${key}`,
          idempotencykey: key,
          data: {
            caseId: `case-${key}`,
            caseType: 'order',
            eventType: 'order.placed',
            occurredAt: '2026-12-03T06:00:00.000Z',
            source: { system: 'order-system', eventId: key, schemaVersion: 1 },
            attributes: { note },
          },
        }),
      },
    ],
  });
  const outboxIds = async (): Promise<string[]> =>
    (
      await dataSource.query<Array<{ id: string }>>(
        `SELECT headers->>'ce_id' AS id FROM ingestion.outbox ORDER BY id`,
      )
    ).map((row) => row.id);

  beforeAll(async () => {
    database = await scratchDatabase('keel_ingestion_repos');
    const migrations = {
      schema: 'ingestion',
      migrations: [
        serviceSchemaMigration('ingestion'),
        messagingTablesMigration('ingestion'),
        IngestionTables1764100000000,
      ],
    };
    dataSource = createServiceDataSource({ ...migrations, url: database.url });
    await dataSource.initialize();
    await runServiceMigrations(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('claims a key once and answers later claims with what was accepted first', async () => {
    const first = await dataSource.transaction((manager) =>
      keys.claim(manager, [bare('k-1'), bare('k-2'), bare('k-2', { eventId: 'repeat' })]),
    );
    const again = await dataSource.transaction((manager) =>
      keys.claim(manager, [bare('k-1', { eventId: 'other', subject: 'other' }), bare('k-3')]),
    );

    expect(first).toEqual(new Map());
    expect(again).toEqual(new Map([['k-1', accepted('k-1')]]));
    const [stored] = await dataSource.query<Array<{ event_id: string }>>(
      `SELECT event_id FROM ingestion.idempotency_keys WHERE key = 'k-2'`,
    );
    expect(stored?.event_id).toBe('id-k-2');
  });

  it("writes the events of the keys claimed now, in the claims' order, in the same statement outside a transaction", async () => {
    await dataSource.query('TRUNCATE ingestion.outbox');
    await keys.claim(dataSource.manager, [withEvent('e-1', 'first')]);
    const held = await keys.claim(dataSource.manager, [
      withEvent('e-2', 'first'),
      withEvent('e-1', 'resent'),
      withEvent('e-3', 'first'),
      withEvent('e-2', 'repeated'),
    ]);

    expect([...held.keys()]).toEqual(['e-1']);
    expect(await outboxIds()).toEqual(['id-e-1-first', 'id-e-2-first', 'id-e-3-first']);
    await dataSource.query('TRUNCATE ingestion.outbox');
  });

  it('lets a concurrent claim of the same key wait for the first and lose to it', async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() => dataSource.transaction((manager) => keys.claim(manager, [bare('k-race')]))),
    );

    expect(results.filter((held) => held.size === 0)).toHaveLength(1);
  });

  it('forgets keys accepted before the cutoff, at most `limit` at a time, and keeps newer ones', async () => {
    await dataSource.transaction(async (manager) => {
      await keys.claim(
        manager,
        ['old-1', 'old-2', 'old-3', 'new-1'].map((key) => bare(key)),
      );
      await manager.query(
        `UPDATE ingestion.idempotency_keys SET accepted_at = now() - interval '2 days' WHERE key LIKE 'old-%'`,
      );
    });
    const cutoff = new Date(Date.now() - 86_400_000);

    const firstRound = await dataSource.transaction((manager) => keys.forgetBefore(manager, cutoff, 2));
    const secondRound = await dataSource.transaction((manager) => keys.forgetBefore(manager, cutoff, 2));
    const left = await dataSource.query<Array<{ key: string }>>(
      `SELECT key FROM ingestion.idempotency_keys WHERE key LIKE 'old-%' OR key LIKE 'new-%'`,
    );

    expect([firstRound, secondRound]).toEqual([2, 1]);
    expect(left.map((row) => row.key)).toEqual(['new-1']);
  });

  it('tells how long the oldest unpublished outbox row has waited, and nothing once all are published', async () => {
    const wait = () => dataSource.transaction((manager) => backlog.oldestWaitMs(manager));
    expect(await wait()).toBeUndefined();

    await dataSource.query(
      `INSERT INTO ingestion.outbox (topic, message_key, value, headers, created_at)
       VALUES ('t', 'k', '\\x00', '{}', now() - interval '3 seconds'), ('t', 'k', '\\x00', '{}', now())`,
    );
    expect(await wait()).toBeGreaterThanOrEqual(3_000);

    await dataSource.query(`UPDATE ingestion.outbox SET published_at = now()`);
    expect(await wait()).toBeUndefined();
  });
});
