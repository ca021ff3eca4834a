import { type CaseEvent, type CloudEvent, buildEvent, topics } from '@keel/contracts';
import { decisionIdOf } from '@keel/decisioning-agent';
import { serviceSchemaMigration } from '@keel/persistence';
import { type ScratchDatabase, scratchDatabase } from '@keel/testing';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { caseEventTrigger } from '../decision-triggers';
import { DecisioningDecisionQueue1764400000100 } from './decision-queue.migration';
import { DecisionQueueRepository, decisionQueueShards } from './decision-queue.repository';
import { DecisioningTables1764100000100 } from './decisioning-tables.migration';

/** A consumer run queued in one statement: each trigger sees its own event and the run's earlier ones only. */
describe('DecisionQueueRepository.enqueueAll', () => {
  let database: ScratchDatabase;
  let dataSource: DataSource;
  const queue = new DecisionQueueRepository('decisioning');
  const everyShard = [...Array(decisionQueueShards).keys()];
  const decidedHere = { decidedHere: everyShard };

  beforeAll(async () => {
    database = await scratchDatabase('keel_decision_queue');
    dataSource = new DataSource({
      type: 'postgres',
      url: database.url,
      migrations: [
        serviceSchemaMigration('decisioning'),
        DecisioningTables1764100000100,
        DecisioningDecisionQueue1764400000100,
      ],
    });
    await dataSource.initialize();
    await dataSource.runMigrations();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  function caseEvent(caseId: string, n: number): CloudEvent<CaseEvent> {
    const id = `${caseId}-e${n}`;
    return buildEvent(topics.caseEvents, {
      id,
      source: 'urn:keel:test',
      type: 'keel.case.test',
      time: '2026-12-01T09:00:00.000Z',
      subject: caseId,
      tenant: 'acme',
      correlationid: caseId,
      idempotencykey: id,
      data: {
        caseId,
        caseType: 'support',
        eventType: 'ticket.updated',
        occurredAt: `2026-12-01T09:00:0${n}.000Z`,
        source: { system: 'support-desk', eventId: id, schemaVersion: 1 },
        attributes: { ticketId: caseId, n },
      },
    });
  }

  const itemsOf = (events: ReadonlyArray<CloudEvent<CaseEvent>>) =>
    events.map((event) => {
      const trigger = caseEventTrigger(event);
      return { queued: { decisionId: decisionIdOf(trigger), trigger, envelope: event }, remember: trigger };
    });

  it('queues a run in order with positions in that order, and queues nothing twice when the run comes again', async () => {
    const run = [
      caseEvent('case-a', 1),
      caseEvent('case-b', 1),
      caseEvent('case-a', 2),
      caseEvent('case-a', 3),
    ];
    await dataSource.transaction((manager) => queue.enqueueAll(manager, itemsOf(run), decidedHere));
    // A redelivery past the deduplication window, and a run with nothing to queue.
    await dataSource.transaction((manager) => queue.enqueueAll(manager, itemsOf(run), decidedHere));
    await dataSource.transaction((manager) => queue.enqueueAll(manager, [], decidedHere));

    const pending = await dataSource.transaction((manager) => queue.pending(manager, 10, [], 20, everyShard));
    expect(pending.map((p) => p.envelope.id)).toEqual(run.map((event) => event.id));
    expect(pending.map((p) => p.history.map((entry) => entry.eventId))).toEqual([
      ['case-a-e1'],
      ['case-b-e1'],
      ['case-a-e1', 'case-a-e2'],
      ['case-a-e1', 'case-a-e2', 'case-a-e3'],
    ]);
    const [{ n }] = await dataSource.query<[{ n: number }]>(
      `SELECT count(*)::int AS n FROM decisioning.case_events`,
    );
    expect(n).toBe(4);
  });

  it("reads only the shards asked for, a case's triggers all in one, and notifies only for shards decided elsewhere", async () => {
    const listener = new Client({ connectionString: database.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (message) => heard.push(message.channel));
    await listener.query(`LISTEN "${queue.channel}"`);
    try {
      const cases = Array.from({ length: 40 }, (_, n) => `sharded-${n}`);
      const run = cases.flatMap((caseId) => [caseEvent(caseId, 1), caseEvent(caseId, 2)]);
      await dataSource.transaction((manager) => queue.enqueueAll(manager, itemsOf(run), decidedHere));
      const all = await queue.pending(dataSource.manager, 1_000, [], 20, everyShard);
      const shardOfCase = new Map<string, Set<number>>();
      for (const pending of all.filter((p) => p.trigger.caseId.startsWith('sharded-'))) {
        shardOfCase.set(
          pending.trigger.caseId,
          (shardOfCase.get(pending.trigger.caseId) ?? new Set()).add(pending.shard),
        );
      }
      expect([...shardOfCase.values()].every((shards) => shards.size === 1)).toBe(true);
      const used = new Set([...shardOfCase.values()].flatMap((shards) => [...shards]));
      expect(used.size).toBeGreaterThan(decisionQueueShards / 2);

      const some = [...used].slice(0, 2);
      const read = await queue.pending(dataSource.manager, 1_000, [], 20, some);
      expect(read.length).toBeGreaterThan(0);
      expect(read.every((pending) => some.includes(pending.shard))).toBe(true);
      expect(read).toEqual(all.filter((pending) => some.includes(pending.shard)));

      // Decided here: nobody else needs to hear of it. Another shard's trigger: the other replicas do.
      const [caseId] = [...shardOfCase].find(([, shards]) => shards.has(some[0])) ?? [];
      const next = [caseEvent(caseId as string, 3)];
      await dataSource.transaction((manager) =>
        queue.enqueueAll(manager, itemsOf(next), { decidedHere: some }),
      );
      await listener.query('SELECT 1');
      expect(heard).toEqual([]);
      const other = everyShard.filter((shard) => shard !== some[0]);
      const last = [caseEvent(caseId as string, 4)];
      await dataSource.transaction((manager) =>
        queue.enqueueAll(manager, itemsOf(last), { decidedHere: other }),
      );
      await listener.query('SELECT 1');
      expect(heard).toEqual([queue.channel]);
    } finally {
      await listener.end();
    }
  });
});
