import {
  type CaseEvent,
  type CloudEvent,
  deadLetterTopicName,
  recordLifetimeMs,
  type TopicDefinition,
  topics,
} from '@keel/contracts';
import { type ErrorCatalog, KeelError } from '@keel/errors';
import {
  EventRunPattern,
  acceptingOnly,
  KafkaEventContext,
  KafkaEventRunContext,
  KafkaEventHandlers,
  KafkaEventTransport,
} from '@keel/messaging';
import {
  isolatedTopic,
  messagingTestBed,
  readTopic,
  recordHeader,
  sequencedCaseEvent,
  uniqueName,
  waitFor,
} from '@keel/testing';
import { Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';

type LedgerErrorCode = 'unknown-account';

const ledgerErrors = {
  httpStatus: { 'unknown-account': 404 },
  consumerHandling: { 'unknown-account': 'dead-letter' },
} as const satisfies ErrorCatalog<LedgerErrorCode>;

class LedgerError extends KeelError<LedgerErrorCode> {
  constructor(code: LedgerErrorCode) {
    super(code, `ledger says ${code}`, ledgerErrors);
  }
}

describe('KafkaEventTransport in a Nest microservice', () => {
  const bed = messagingTestBed({ schemaPrefix: 'nest' });

  /** A Nest microservice of `module` on the bed's broker and schema, consuming `topic` as caseEvents. */
  async function listen(
    module: Type,
    topic: TopicDefinition,
    groupId: string,
    retry?: ConstructorParameters<typeof KafkaEventTransport>[0]['retry'],
  ): Promise<void> {
    const app = await NestFactory.createMicroservice(module, {
      logger: false,
      strategy: new KafkaEventTransport({
        kafka: bed.kafka,
        groupId,
        dataSource: bed.dataSource,
        tables: bed.tables,
        deadLetters: bed.sender,
        ...(retry ? { retry } : {}),
        topics: { caseEvents: topic },
        deduplicationWindowMs: recordLifetimeMs(topic),
      }),
    });
    bed.afterwards(() => app.close());
    await app.listen();
  }

  it('delivers validated events to @EventPattern handlers inside the idempotency transaction', async () => {
    const { kafka, publisher, schema, dataSource } = bed;
    const topic = await isolatedTopic(kafka, topics.caseEvents, 2);

    @KafkaEventHandlers()
    class EffectsController {
      @EventPattern('caseEvents')
      async onCaseEvent(
        @Payload() event: CloudEvent<CaseEvent>,
        @Ctx() context: KafkaEventContext,
      ): Promise<void> {
        await context.manager.query(
          `INSERT INTO "${schema}".effects (event_id, case_id, seq, consumer) VALUES ($1, $2, $3, $4)`,
          [event.id, event.subject, event.data.attributes.seq, context.origin.topic],
        );
      }
    }
    @Module({ controllers: [EffectsController] })
    class EffectsModule {}

    await listen(EffectsModule, topic, uniqueName('nest'));
    const events = [1, 2, 3].map((seq) => sequencedCaseEvent('case-n', seq));
    await publisher.publish(topic, [...events, events[0]]);
    const rows = await waitFor(async () => {
      const found = await dataSource.query<
        Array<{
          seq: number;
          consumer: string;
        }>
      >(`SELECT seq, consumer FROM "${schema}".effects ORDER BY applied`);
      return found.length >= 3 ? found : undefined;
    });
    expect(rows).toEqual([1, 2, 3].map((seq) => ({ seq, consumer: topic.name })));
  });

  it('hands @EventRunPattern handlers whole runs in order; a failing event is redone alone and dead-lettered per its catalog', async () => {
    const { kafka, publisher, schema, dataSource } = bed;
    const topic = await isolatedTopic(kafka, topics.caseEvents, 1);
    const runSizes: number[] = [];
    const calls = new Map<string, number>();

    @KafkaEventHandlers()
    class RunsController {
      @EventRunPattern('caseEvents')
      async onCaseEvents(
        @Payload() events: ReadonlyArray<CloudEvent<CaseEvent>>,
        @Ctx() context: KafkaEventRunContext,
      ): Promise<void> {
        runSizes.push(events.length);
        for (const event of events) calls.set(event.id, (calls.get(event.id) ?? 0) + 1);
        if (events.some((event) => event.id === 'case-n-7')) throw new LedgerError('unknown-account');
        // The whole run's effects in one statement: what a run handler is for.
        await context.manager.query(
          `INSERT INTO "${schema}".effects (event_id, case_id, seq, consumer)
           SELECT id, case_id, seq, $4 FROM unnest($1::text[], $2::text[], $3::int[]) AS e(id, case_id, seq)`,
          [
            events.map((event) => event.id),
            events.map((event) => event.subject),
            events.map((event) => event.data.attributes.seq),
            context.origin.topic,
          ],
        );
      }
    }

    @Module({ controllers: [RunsController] })
    class RunsModule {}

    // Published before the app listens, so the first fetch holds a run of many; then every one again.
    const events = Array.from({ length: 20 }, (_, i) => sequencedCaseEvent('case-n', i + 1));
    await publisher.publish(topic, events);
    await publisher.publish(topic, events);
    await publisher.publish(topic, [sequencedCaseEvent('case-n', 21)]);

    await listen(RunsModule, topic, uniqueName('nestruns'), {
      maxAttempts: 3,
      initialDelayMs: 20,
      multiplier: 2,
      maxDelayMs: 50,
    });
    const rows = await waitFor(async () => {
      const found = await dataSource.query<Array<{ seq: number; consumer: string }>>(
        `SELECT seq, consumer FROM "${schema}".effects ORDER BY applied, seq`,
      );
      return found.some((row) => row.seq === 21) ? found : undefined;
    });
    // In order, each once although published twice, and without the failing one.
    expect(rows.map((row) => row.seq)).toEqual(
      [...events.map((_, i) => i + 1), 21].filter((seq) => seq !== 7),
    );
    expect(new Set(rows.map((row) => row.consumer))).toEqual(new Set([topic.name]));
    expect(Math.max(...runSizes)).toBeGreaterThan(1);
    const [deadLetter] = await readTopic(kafka, deadLetterTopicName(topic.name), 1);
    expect(recordHeader(deadLetter, 'ce_id')).toBe('case-n-7');
    expect(recordHeader(deadLetter, 'keel_dlq_code')).toBe('unknown-account');
    // Once in the failed run, once redone alone — then its code dead-letters it without another attempt.
    expect(calls.get('case-n-7')).toBe(2);
  });

  it('passes over the events a handler’s accepts filter refuses, with @EventPattern and @EventRunPattern alike', async () => {
    const { kafka, publisher, dataSource, tables } = bed;
    const evenSeq = (event: CloudEvent<CaseEvent>) => Number(event.data.attributes.seq) % 2 === 0;
    const seen = { single: [] as number[], runs: [] as number[] };

    @KafkaEventHandlers()
    class SingleController {
      @EventPattern('caseEvents', acceptingOnly(evenSeq))
      onCaseEvent(@Payload() event: CloudEvent<CaseEvent>): Promise<void> {
        seen.single.push(event.data.attributes.seq as number);
        return Promise.resolve();
      }
    }
    @KafkaEventHandlers()
    class RunsController {
      @EventRunPattern('caseEvents', { accepts: evenSeq })
      onCaseEvents(@Payload() events: ReadonlyArray<CloudEvent<CaseEvent>>): Promise<void> {
        seen.runs.push(...events.map((event) => event.data.attributes.seq as number));
        return Promise.resolve();
      }
    }

    for (const controller of [SingleController, RunsController]) {
      const topic = await isolatedTopic(kafka, topics.caseEvents, 1);
      await publisher.publish(
        topic,
        Array.from({ length: 8 }, (_, i) => sequencedCaseEvent('case-e', i + 1)),
      );
      @Module({ controllers: [controller] })
      class FilteredModule {}
      const groupId = uniqueName('nestaccepts');
      await listen(FilteredModule, topic, groupId);
      await waitFor(
        async () => {
          const [{ n }] = await dataSource.query<[{ n: number }]>(
            `SELECT count(*)::int AS n FROM ${tables.processedEvents} WHERE consumer_group = $1`,
            [groupId],
          );
          return n === 4;
        },
        { what: 'the accepted events recorded' },
      );
    }
    expect(seen).toEqual({ single: [2, 4, 6, 8], runs: [2, 4, 6, 8] });
  });

  it('gathers the topic of an @EventRunPattern with gatherMs between fetches', async () => {
    const { kafka, publisher } = bed;
    const gatherMs = 3_000;
    const runs: Array<{ seqs: number[]; at: number }> = [];

    @KafkaEventHandlers()
    class GatheringController {
      @EventRunPattern('caseEvents', { gatherMs })
      onCaseEvents(@Payload() events: ReadonlyArray<CloudEvent<CaseEvent>>): Promise<void> {
        runs.push({ seqs: events.map((event) => event.data.attributes.seq as number), at: Date.now() });
        return Promise.resolve();
      }
    }
    @Module({ controllers: [GatheringController] })
    class GatheringModule {}
    const topic = await isolatedTopic(kafka, topics.caseEvents, 1);
    await listen(GatheringModule, topic, uniqueName('nestgather'));
    await publisher.publish(topic, [sequencedCaseEvent('case-n', 1)]);
    await waitFor(() => Promise.resolve(runs.length === 1), { what: 'the first run' });
    for (const seq of [2, 3, 4]) await publisher.publish(topic, [sequencedCaseEvent('case-n', seq)]);

    await waitFor(() => Promise.resolve(runs.flatMap((run) => run.seqs).length === 4), {
      what: 'the gathered run',
      timeoutMs: 20_000,
    });
    expect(runs.map((run) => run.seqs)).toEqual([[1], [2, 3, 4]]);
    expect((runs[1]?.at ?? 0) - (runs[0]?.at ?? 0)).toBeGreaterThanOrEqual(gatherMs - 500);
  });
});
