import { type CaseEvent, type CloudEvent, recordLifetimeMs, topics } from '@keel/contracts';
import {
  EventPublisher,
  KafkaEventContext,
  KafkaEventHandlers,
  KafkaEventTransport,
  KafkaRecordSender,
  MessagingSchema,
} from '@keel/messaging';
import {
  dropSchema,
  effectsTableMigration,
  isolatedTopic,
  schemaDataSource,
  sequencedCaseEvent,
  testKafka,
  uniqueName,
  waitFor,
} from '@keel/testing';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';

describe('KafkaEventTransport in a Nest microservice', () => {
  it('delivers validated events to @EventPattern handlers inside the idempotency transaction', async () => {
    const kafka = testKafka();
    const sender = new KafkaRecordSender(kafka);
    const schema = uniqueName('nest');
    const dataSource = await schemaDataSource(schema, [effectsTableMigration(schema)]);
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

    const app = await NestFactory.createMicroservice(EffectsModule, {
      logger: false,
      strategy: new KafkaEventTransport({
        kafka,
        groupId: uniqueName('nest'),
        dataSource,
        tables: new MessagingSchema(schema),
        deadLetters: sender,
        topics: { caseEvents: topic },
        deduplicationWindowMs: recordLifetimeMs(topic),
      }),
    });
    await app.listen();
    try {
      const events = [1, 2, 3].map((seq) => sequencedCaseEvent('case-n', seq));
      await new EventPublisher(sender).publish(topic, [...events, events[0]]);
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
    } finally {
      await app.close();
      await sender.disconnect();
      await dropSchema(dataSource, schema);
      await dataSource.destroy();
    }
  });
});
