import { type EachBatchPayload, Partitioners } from 'kafkajs';
import { isRecordTooLarge } from '../dependency-outage';
import { InProcessBus } from './in-process-bus';

const until = async (condition: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('InProcessBus', () => {
  const setUp = async (options: ConstructorParameters<typeof InProcessBus>[0] = {}) => {
    const bus = new InProcessBus({ crashRestartMs: 10, ...options });
    const kafka = bus.client('spec');
    await kafka.admin().createTopics({ topics: [{ topic: 't', numPartitions: 3 }] });
    const producer = kafka.producer();
    await producer.connect();
    return { bus, kafka, producer };
  };

  it('places keys on the partition kafkajs would, in send order, and refuses what a broker refuses', async () => {
    const { bus, producer } = await setUp({ maxRecordBytes: 64 });
    const messages = ['a', 'b', 'a', 'c', 'a'].map((key, index) => ({ key, value: `v${index}` }));
    await producer.sendBatch({ topicMessages: [{ topic: 't', messages }] });
    const partitioner = Partitioners.DefaultPartitioner();
    const metadata = [0, 1, 2].map((partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    }));
    for (const record of bus.records('t')) {
      const key = record.message.key?.toString() ?? '';
      expect(record.partition).toBe(
        partitioner({ topic: 't', partitionMetadata: metadata, message: { key, value: '' } }),
      );
    }
    const ofA = bus.records('t').filter((record) => record.message.key?.toString() === 'a');
    expect(ofA.map((record) => record.message.value?.toString())).toEqual(['v0', 'v2', 'v4']);
    await expect(producer.sendBatch({ topicMessages: [{ topic: 'nope', messages }] })).rejects.toThrow(
      /nope/,
    );
    const large = producer.sendBatch({
      topicMessages: [{ topic: 't', messages: [{ key: 'a', value: 'x'.repeat(100) }] }],
    });
    // The consumer's dead-letter path recognises it and sends a truncated copy instead.
    expect(isRecordTooLarge(await large.catch((error: unknown) => error))).toBe(true);
    expect(bus.records('t')).toHaveLength(5);
  });

  it('refetches what a batch left unresolved, commits per group, and a new member resumes after the commit', async () => {
    const { bus, kafka, producer } = await setUp();
    await producer.sendBatch({
      topicMessages: [
        { topic: 't', messages: [1, 2, 3].map((n) => ({ key: 'k', value: String(n), partition: 0 })) },
      ],
    });
    const seen: string[] = [];
    let firstBatch = true;
    const consumer = kafka.consumer({ groupId: 'g' });
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload: EachBatchPayload) => {
        for (const message of payload.batch.messages) {
          seen.push(message.value?.toString() ?? '');
          // The first batch resolves only its first record: the rest must come again.
          if (firstBatch && message.offset !== '0') break;
          payload.resolveOffset(message.offset);
        }
        firstBatch = false;
        await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
      },
    });
    await until(() => bus.backlog() === 0);
    await consumer.disconnect();
    expect(seen).toEqual(['1', '2', '2', '3']);

    await producer.sendBatch({
      topicMessages: [{ topic: 't', messages: [{ key: 'k', value: '4', partition: 0 }] }],
    });
    const later: string[] = [];
    const resumed = kafka.consumer({ groupId: 'g' });
    await resumed.subscribe({ topics: ['t'], fromBeginning: true });
    await resumed.run({
      eachBatch: ({ batch }) => {
        later.push(...batch.messages.map((message) => message.value?.toString() ?? ''));
        return Promise.resolve();
      },
    });
    await until(() => bus.backlog() === 0);
    await resumed.disconnect();
    expect(later).toEqual(['4']);
  });

  it('redelivers from the committed offset after a batch throws, as a restarted kafkajs consumer does', async () => {
    const crashes: unknown[] = [];
    const { bus, kafka, producer } = await setUp({ onConsumerCrash: (_group, error) => crashes.push(error) });
    await producer.sendBatch({
      topicMessages: [
        { topic: 't', messages: ['a', 'b'].map((value) => ({ key: 'k', value, partition: 1 })) },
      ],
    });
    const deliveries: string[] = [];
    const consumer = kafka.consumer({ groupId: 'g' });
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    await consumer.run({
      eachBatch: ({ batch }) => {
        deliveries.push(batch.messages.map((message) => message.value?.toString()).join(''));
        return deliveries.length === 1 ? Promise.reject(new Error('boom')) : Promise.resolve();
      },
    });
    await until(() => bus.backlog() === 0);
    await consumer.disconnect();
    expect(deliveries).toEqual(['ab', 'ab']);
    expect(crashes).toHaveLength(1);
  });

  it("shares a topic's partitions among a group's members and starts a new group at the end unless fromBeginning", async () => {
    const { kafka, producer } = await setUp();
    await producer.sendBatch({
      topicMessages: [{ topic: 't', messages: [0, 1, 2].map((partition) => ({ value: 'old', partition })) }],
    });
    const byMember = new Map<string, Set<number>>();
    const members = ['m1', 'm2'].map((name) => {
      const consumer = kafka.consumer({ groupId: 'shared' });
      return { name, consumer };
    });
    for (const { name, consumer } of members) {
      await consumer.subscribe({ topics: ['t'], fromBeginning: true });
      await consumer.run({
        eachBatch: ({ batch }) => {
          byMember.set(name, (byMember.get(name) ?? new Set()).add(batch.partition));
          return Promise.resolve();
        },
      });
    }
    const latest: string[] = [];
    const tail = kafka.consumer({ groupId: 'tail' });
    await tail.subscribe({ topics: ['t'] });
    await tail.run({
      eachBatch: ({ batch }) => {
        latest.push(...batch.messages.map((message) => message.value?.toString() ?? ''));
        return Promise.resolve();
      },
    });
    await producer.sendBatch({
      topicMessages: [{ topic: 't', messages: [0, 1, 2].map((partition) => ({ value: 'new', partition })) }],
    });
    await until(
      () => latest.length === 3 && [...byMember.values()].reduce((n, set) => n + set.size, 0) === 3,
    );
    for (const { consumer } of members) await consumer.disconnect();
    await tail.disconnect();
    const [first, second] = [...byMember.values()];
    expect([...first].filter((partition) => second.has(partition))).toEqual([]);
    expect(latest).toEqual(['new', 'new', 'new']);
  });
});
