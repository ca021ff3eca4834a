import { MessagingRetention, MessagingSchema } from '@keel/messaging';
import { dropSchema, schemaDataSource, uniqueName } from '@keel/testing';
import type { DataSource } from 'typeorm';

describe('MessagingRetention on Postgres', () => {
  const schema = uniqueName('retention');
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await schemaDataSource(schema);
  });

  afterAll(async () => {
    await dropSchema(dataSource, schema);
    await dataSource.destroy();
  });

  it('deletes old published outbox rows and processed ids past the dedupe window, and nothing else', async () => {
    const tables = new MessagingSchema(schema);
    await dataSource.query(
      `INSERT INTO ${tables.outbox} (topic, message_key, value, headers, published_at) VALUES
       ('t', 'old-published', '\\x00', '{}', now() - interval '2 days'),
       ('t', 'new-published', '\\x00', '{}', now()),
       ('t', 'old-unpublished', '\\x00', '{}', NULL)`,
    );
    await dataSource.query(
      `INSERT INTO ${tables.processedEvents} (consumer_group, event_id, topic, processed_at) VALUES
       ('g', 'beyond-window', 't', now() - interval '8 days'), ('g', 'inside-window', 't', now() - interval '6 days')`,
    );

    const retention = new MessagingRetention({
      dataSource,
      tables,
      outboxRetentionMs: 24 * 3_600_000,
      processedEventsRetentionMs: 7 * 24 * 3_600_000,
    });
    expect(await retention.tick()).toBe(false);

    const outbox = await dataSource.query<Array<{ message_key: string }>>(
      `SELECT message_key FROM ${tables.outbox} ORDER BY id`,
    );
    expect(outbox.map((row) => row.message_key)).toEqual(['new-published', 'old-unpublished']);
    const processed = await dataSource.query<Array<{ event_id: string }>>(
      `SELECT event_id FROM ${tables.processedEvents}`,
    );
    expect(processed.map((row) => row.event_id)).toEqual(['inside-window']);
  });
});
