import {
  type CaseEvent,
  type CloudEvent,
  type DecisionRecord,
  buildEvent,
  namespacedTopics,
} from '@keel/contracts';
import { decisionIdOf } from '@keel/decisioning-agent';
import {
  DecideUseCase,
  DecisionPublisher,
  DecisionQueueRepository,
  caseEventTrigger,
} from '@keel/decisioning-feature';
import { EventPublisher, KafkaRecordSender, ensureTopics, topicSpecsWithDeadLetters } from '@keel/messaging';
import {
  type ScratchDatabase,
  type TestProcess,
  readTopic,
  scratchDatabase,
  startTsProcess,
  testKafka,
  testKafkaBrokers,
  testTopicScope,
  waitFor,
  freePort,
} from '@keel/testing';
import { type INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  ScriptedOpenAiServer,
  toolCall,
} from '../../../libs/decisioning/agent/src/testing/scripted-openai.server';
import { startDecisioningApp } from '../../../test/e2e/fixtures/decisioning-app';

/**
 * Delivery guarantees with the model outside the consumer's transaction: the consumer only queues the trigger;
 * a slow model holds no transaction; a crash mid-decision decides again after restart and still publishes one
 * decision per trigger; two deciders racing on one trigger publish it once.
 */
describe('decisioning delivery', () => {
  const namespace = testTopicScope('e2e');
  const topics = namespacedTopics(namespace);
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  let model: ScriptedOpenAiServer;
  let database: ScratchDatabase;
  let client: Client;

  beforeAll(async () => {
    model = await ScriptedOpenAiServer.start();
    database = await scratchDatabase('keel_decisioning_delivery');
    client = new Client({ connectionString: database.url });
    await client.connect();
    await ensureTopics(kafka, topicSpecsWithDeadLetters(Object.values(topics)));
  });

  afterAll(async () => {
    await client?.end();
    await database?.drop();
    await model?.close();
    await sender.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({
      topics: (await admin.listTopics()).filter((name) => name.startsWith(`${namespace}.`)),
    });
    await admin.disconnect();
  });

  const modelEnv = () => ({
    DATABASE_URL: database.url,
    KEEL_TOPIC_NAMESPACE: namespace,
    OPENAI_BASE_URL: model.baseURL,
    OPENAI_API_KEY: 'test-key',
    OPENAI_MODEL: 'scripted-model',
  });

  /** The scripted model escalates every case, after `delayMs`. */
  const escalateAfter = (delayMs: (index: number) => number) =>
    model.play(({ index }) => ({
      ...toolCall('escalate', {
        reason: 'scripted escalation',
        rationale: 'The scripted model escalates.',
        confidence: 0.9,
      }),
      delayMs: delayMs(index),
    }));

  function caseEvent(caseId: string): CloudEvent<CaseEvent> {
    const id = `${namespace}-${caseId}`;
    return buildEvent(topics.caseEvents, {
      id,
      source: 'urn:keel:test',
      type: 'keel.case.test',
      time: new Date().toISOString(),
      subject: caseId,
      tenant: 'acme',
      correlationid: caseId,
      idempotencykey: id,
      data: {
        caseId,
        caseType: 'support',
        eventType: 'ticket.resolved',
        occurredAt: '2026-12-01T09:00:00.000Z',
        source: { system: 'support-desk', eventId: caseId, schemaVersion: 1 },
        attributes: { ticketId: caseId },
      },
    });
  }

  const count = async (sql: string, params: unknown[] = []) =>
    (await client.query<{ n: number }>(sql, params)).rows[0]?.n ?? 0;

  describe('in one process', () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await startDecisioningApp(modelEnv());
    });

    afterAll(() => app?.close());

    it('queues the trigger and commits the consumer transaction before the model answers; no transaction waits on it', async () => {
      escalateAfter(() => 2_000);
      const event = caseEvent('slow-1');
      await publisher.publish(topics.caseEvents, [event]);
      await waitFor(() => model.requests.length >= 1, { what: 'the model asked' });
      // While the model thinks: the event is processed and its trigger queued, both committed.
      expect(
        await count(`SELECT count(*)::int AS n FROM decisioning.processed_events WHERE event_id = $1`, [
          event.id,
        ]),
      ).toBe(1);
      expect(await count(`SELECT count(*)::int AS n FROM decisioning.decision_triggers`)).toBe(1);
      // And no transaction of the service stays open across the call (the relay's and the consumer's last
      // milliseconds); sampled through most of the model's two seconds.
      for (let sample = 0; sample < 10; sample++) {
        expect(
          await count(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND xact_start IS NOT NULL AND now() - xact_start > interval '300 milliseconds'`,
          ),
        ).toBe(0);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      const [message] = await readTopic(
        kafka,
        topics.decisions.name,
        1,
        (m) => m.key?.toString() === 'slow-1',
      );
      const record = JSON.parse(message?.value?.toString() ?? '{}') as DecisionRecord;
      expect(record).toMatchObject({ planner: 'model', action: { tool: 'escalate' } });
      expect(await count(`SELECT count(*)::int AS n FROM decisioning.decision_triggers`)).toBe(0);
    });

    it('two deciders racing on one trigger publish one decision', async () => {
      // Queue a trigger the way the consumer does, then decide and publish it twice at once beside the
      // service's own worker (as a replica that lost the case's shard mid-decision would).
      escalateAfter(() => 200);
      const event = caseEvent('raced-1');
      const trigger = caseEventTrigger(event);
      const decisionId = decisionIdOf(trigger);
      const queue = app.get(DecisionQueueRepository);
      await app
        .get(DataSource)
        .transaction((manager) =>
          queue.enqueueAll(manager, [
            { queued: { decisionId, trigger, envelope: event }, remember: trigger },
          ]),
        );
      const decide = app.get(DecideUseCase);
      const pending = {
        decisionId,
        trigger,
        envelope: event,
        shard: 0,
        position: '9223372036854775807',
        history: [],
        historyLimit: 20,
      };
      const outcomes = await Promise.all([decide.execute(pending), decide.execute(pending)]);
      const published = await Promise.all(
        outcomes.map((outcome) => app.get(DecisionPublisher).publish([outcome])),
      );
      await waitFor(
        async () =>
          (await count(
            `SELECT count(*)::int AS n FROM decisioning.decision_triggers WHERE decision_id = $1`,
            [decisionId],
          )) === 0,
        { what: 'trigger decided' },
      );
      // At most one of ours published; with the service's worker, exactly one publication in all.
      expect(published.flat().length).toBeLessThanOrEqual(1);
      expect(
        await count(
          `SELECT count(*)::int AS n FROM decisioning.outbox WHERE message_key = 'raced-1' AND topic = $1`,
          [topics.decisions.name],
        ),
      ).toBe(1);
      expect(
        await count(`SELECT count(*)::int AS n FROM decisioning.decisions WHERE decision_id = $1`, [
          decisionId,
        ]),
      ).toBe(1);
    });
  });

  describe('across a SIGKILL', () => {
    let service: TestProcess | undefined;
    let port: number;

    async function start(): Promise<void> {
      service = startTsProcess('apps/decisioning/src/main.ts', {
        ...modelEnv(),
        KAFKA_BROKERS: testKafkaBrokers.join(','),
        PORT: String(port),
        LOG_LEVEL: 'warn',
        OUTBOX_POLL_MS: '20',
        KAFKA_SESSION_TIMEOUT_MS: '6000',
      });
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.ok,
        { what: 'decisioning ready', timeoutMs: 60_000 },
      );
    }

    beforeAll(async () => {
      port = await freePort();
    });

    afterAll(() => service?.kill('SIGTERM'));

    it('decides again what a crash left undecided, and publishes one decision per trigger', async () => {
      const cases = Array.from({ length: 40 }, (_, n) => `crash-${n}`);
      // Staggered answers: at the kill some decisions are published, some being decided, some not begun.
      escalateAfter((index) => 300 + (index % 8) * 150);
      await start();
      await publisher.publish(
        topics.caseEvents,
        cases.map((caseId) => caseEvent(caseId)),
      );
      const decided = () =>
        count(`SELECT count(*)::int AS n FROM decisioning.decisions WHERE case_id LIKE 'crash-%'`);
      await waitFor(async () => (await decided()) >= 5, { what: 'some decisions', timeoutMs: 60_000 });
      await service?.kill('SIGKILL');
      const before = await decided();
      const askedBefore = model.requests.length;
      expect(before).toBeLessThan(cases.length);

      await start();
      await waitFor(async () => (await decided()) === cases.length, {
        what: 'every case decided',
        timeoutMs: 120_000,
      });
      // What the crash cut short was decided again: the model was asked again.
      expect(model.requests.length).toBeGreaterThan(askedBefore);

      const messages = await readTopic(kafka, topics.decisions.name, cases.length, (m) =>
        (m.key?.toString() ?? '').startsWith('crash-'),
      );
      // Give a republished outbox row (a crash between the relay's send and its mark) time to show up too.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const again = await readTopic(kafka, topics.decisions.name, messages.length, (m) =>
        (m.key?.toString() ?? '').startsWith('crash-'),
      );
      const bytesById = new Map<string, Set<string>>();
      for (const message of again) {
        const record = JSON.parse(message.value?.toString() ?? '{}') as DecisionRecord;
        const seen = bytesById.get(record.decisionId) ?? new Set<string>();
        seen.add(message.value?.toString() ?? '');
        bytesById.set(record.decisionId, seen);
      }
      // One decision per trigger: one id per case, and never two different records under one id.
      expect(bytesById.size).toBe(cases.length);
      expect([...bytesById.values()].filter((variants) => variants.size > 1)).toEqual([]);
      expect(
        await count(
          `SELECT count(*)::int AS n FROM decisioning.outbox WHERE message_key LIKE 'crash-%' AND topic = $1`,
          [topics.decisions.name],
        ),
      ).toBe(cases.length);
      expect(await count(`SELECT count(*)::int AS n FROM decisioning.decision_triggers`)).toBe(0);
    });
  });
});
