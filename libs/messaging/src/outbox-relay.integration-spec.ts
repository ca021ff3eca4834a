import { fromKafkaRecord, topics } from '@keel/contracts';
import { OutboxRelay, OutboxWriter } from '@keel/messaging';
import {
  FaultProxy,
  isolatedTopic,
  messagingTestBed,
  readTopic,
  recordsOnTopic,
  sequencedCaseEvent,
  testDatabaseUrl,
  waitFor,
} from '@keel/testing';
import { DataSource } from 'typeorm';

/**
 * The relay's lead and its marking (ADR 0025): the leader holds the table's lock on a session of its own and
 * marks a batch published in the statement that reads the next one; the lead passes on when that session
 * ends, and a relay whose connection broke finds its way back by itself.
 */
describe('outbox relay leadership and marking', () => {
  const bed = messagingTestBed({ schemaPrefix: 'relay', effectsTable: false });

  const unmarked = async () =>
    (
      await bed.dataSource.query<[{ n: number }]>(
        `SELECT count(*)::int AS n FROM ${bed.tables.outbox} WHERE published_at IS NULL`,
      )
    )[0].n;

  /** Another replica's data source on the bed's schema (its own pool, as another process would have). */
  const replicaDataSource = async (url = testDatabaseUrl) => {
    const dataSource = await new DataSource({
      type: 'postgres',
      url,
      schema: bed.schema,
      extra: { max: 4, connectionTimeoutMillis: 2_000 },
    }).initialize();
    bed.afterwards(() => dataSource.destroy());
    return dataSource;
  };

  const startRelay = (dataSource: DataSource, pollIntervalMs: number, onError?: (error: unknown) => void) => {
    const relay = new OutboxRelay({
      dataSource,
      tables: bed.tables,
      sender: bed.sender,
      pollIntervalMs,
      ...(onError ? { onError } : {}),
    });
    relay.start();
    bed.afterwards(() => relay.stop());
    return relay;
  };

  /** Writes the events of one case, one transaction each, through the data source given. */
  const caseWriter = (topic: typeof topics.caseEvents, caseId: string) => {
    const outbox = new OutboxWriter(bed.tables);
    return (dataSource: DataSource, seq: number) =>
      dataSource.transaction((manager) => outbox.enqueue(manager, topic, [sequencedCaseEvent(caseId, seq)]));
  };

  const eventIds = async (topic: string, count: number) =>
    (await readTopic(bed.kafka, topic, count)).map(
      (record) => fromKafkaRecord({ key: record.key, value: record.value, headers: record.headers ?? {} }).id,
    );

  it('marks a batch sent while idle published at its next poll', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    startRelay(bed.dataSource, 300);

    await caseWriter(topic, 'case-i')(bed.dataSource, 1);

    await waitFor(async () => (await recordsOnTopic(bed.kafka, topic.name)) === 1, { what: 'the record' });
    await waitFor(async () => (await unmarked()) === 0, { what: 'the row marked', timeoutMs: 3_000 });
    expect(await recordsOnTopic(bed.kafka, topic.name)).toBe(1);
  });

  it('marks what it sent when stopped and hands the lead to the next relay, which publishes nothing twice', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    const write = caseWriter(topic, 'case-s');
    // No poll within the test: only a commit, or stopping, makes the relay run a statement.
    const first = startRelay(bed.dataSource, 120_000);
    await write(bed.dataSource, 1);
    await waitFor(async () => (await recordsOnTopic(bed.kafka, topic.name)) === 1, {
      what: 'the first record',
    });
    expect(await unmarked()).toBe(1);

    await first.stop();
    expect(await unmarked()).toBe(0);

    const replica = await replicaDataSource();
    startRelay(replica, 120_000);
    await write(replica, 2);
    await waitFor(async () => (await recordsOnTopic(bed.kafka, topic.name)) === 2, {
      what: 'the second record',
    });
    expect(await eventIds(topic.name, 2)).toEqual(['case-s-1', 'case-s-2']);
  });

  it('lets a follower take over when the leader’s session ends, and the old leader carries on as a follower', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    const write = caseWriter(topic, 'case-f');
    const leaderErrors: unknown[] = [];
    const leaderSource = await replicaDataSource();
    const followerSource = await replicaDataSource();
    // The leader runs a statement only when its own data source commits; the follower polls.
    const leader = startRelay(leaderSource, 120_000, (error) => leaderErrors.push(error));
    await write(leaderSource, 1);
    await waitFor(async () => (await recordsOnTopic(bed.kafka, topic.name)) === 1, {
      what: 'the first record',
    });
    const follower = startRelay(followerSource, 100);

    // What a network partition ends in, once the keepalives give up on the leader's connection.
    const [{ terminated }] = await bed.dataSource.query<[{ terminated: boolean }]>(
      `SELECT bool_and(pg_terminate_backend(pid)) AS terminated FROM pg_locks
       WHERE locktype = 'advisory' AND granted
         AND ((classid::bigint << 32) | objid::bigint) = hashtext($1)::bigint`,
      [`keel.outbox-relay.${bed.schema}`],
    );
    expect(terminated).toBe(true);
    // The old leader has run nothing since: only the follower can have published this one.
    await write(followerSource, 2);
    await waitFor(async () => (await recordsOnTopic(bed.kafka, topic.name)) >= 2, {
      what: 'the follower leading',
    });
    // The old leader's commits now meet its broken session, then wake the new leader from a new one.
    for (let seq = 3; seq <= 5; seq++) await write(seq % 2 === 0 ? followerSource : leaderSource, seq);

    await waitFor(
      async () => (await unmarked()) === 0 && (await recordsOnTopic(bed.kafka, topic.name)) >= 5,
      {
        what: 'every row published and marked',
      },
    );
    expect(leaderErrors).not.toEqual([]);
    // The first row, sent and not yet marked when the session ended, may be published twice.
    const published = await recordsOnTopic(bed.kafka, topic.name);
    expect([...new Set(await eventIds(topic.name, published))]).toEqual(
      [1, 2, 3, 4, 5].map((seq) => `case-f-${seq}`),
    );

    // The old leader is back on a new session, as a follower: it leads again once the other stops.
    await follower.stop();
    await write(leaderSource, 6);
    await waitFor(async () => (await recordsOnTopic(bed.kafka, topic.name)) === published + 1, {
      what: 'the old leader publishing again',
    });
    await leader.stop();
  });

  it('finds its way back after its connection to Postgres is cut and refused for a while', async () => {
    const proxy = await FaultProxy.inFrontOf(testDatabaseUrl);
    bed.afterwards(() => proxy.close());
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    const write = caseWriter(topic, 'case-c');
    const errors: unknown[] = [];
    const proxied = await replicaDataSource(proxy.url(testDatabaseUrl));
    startRelay(proxied, 100, (error) => errors.push(error));
    await write(proxied, 1);
    await waitFor(async () => (await recordsOnTopic(bed.kafka, topic.name)) === 1, {
      what: 'the first record',
    });

    proxy.refuse();
    proxy.cut();
    // Written past the proxy while the relay cannot reach Postgres: its poll finds them once it can.
    for (let seq = 2; seq <= 4; seq++) await write(bed.dataSource, seq);
    await waitFor(() => errors.length > 0, { what: 'the relay failing' });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    proxy.heal();

    await waitFor(
      async () => (await unmarked()) === 0 && (await recordsOnTopic(bed.kafka, topic.name)) >= 4,
      {
        what: 'every row published and marked after the outage',
      },
    );
    const published = await recordsOnTopic(bed.kafka, topic.name);
    expect([...new Set(await eventIds(topic.name, published))]).toEqual(
      [1, 2, 3, 4].map((seq) => `case-c-${seq}`),
    );
  });
});
