import { type CaseEvent, type CloudEvent, buildEvent, topics } from '@keel/contracts';
import { decisionIdOf } from '@keel/decisioning-agent';
import { serviceSchemaMigration } from '@keel/persistence';
import { type ScratchDatabase, scratchDatabase } from '@keel/testing';
import { DataSource } from 'typeorm';
import { caseEventTrigger } from '../decision-triggers';
import { DecisioningDecisionQueue1764400000100 } from './decision-queue.migration';
import { DecisionQueueRepository } from './decision-queue.repository';
import { DecisioningTables1764100000100 } from './decisioning-tables.migration';

/** A consumer run queued in one statement: each trigger sees its own event and the run's earlier ones only. */
describe('DecisionQueueRepository.enqueueAll', () => {
  let database: ScratchDatabase;
  let dataSource: DataSource;
  const queue = new DecisionQueueRepository('decisioning');

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
    await dataSource.transaction((manager) => queue.enqueueAll(manager, itemsOf(run), { notify: false }));
    // A redelivery past the deduplication window, and a run with nothing to queue.
    await dataSource.transaction((manager) => queue.enqueueAll(manager, itemsOf(run), { notify: false }));
    await dataSource.transaction((manager) => queue.enqueueAll(manager, [], { notify: false }));

    const pending = await dataSource.transaction((manager) => queue.pending(manager, 10, [], 20));
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
});
