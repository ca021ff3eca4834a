import {
  type AdminConfig,
  type ConsumerConfig,
  type ConsumerRunConfig,
  type ConsumerSubscribeTopic,
  type ConsumerSubscribeTopics,
  type EachBatchPayload,
  type IHeaders,
  type ITopicConfig,
  KafkaJSError,
  KafkaJSProtocolError,
  type KafkaMessage,
  type Message,
  type Offsets,
  type OffsetsByTopicPartition,
  Partitioners,
  type ProducerBatch,
  type RecordMetadata,
} from 'kafkajs';
import type { KafkaAdminPort, KafkaConsumerPort, KafkaPort, KafkaProducerPort } from '../kafka-port';
import type { InProcessBusClients } from './in-process-registry';

export interface InProcessBusOptions {
  /** Largest record value + key + headers the bus accepts, as a broker's `message.max.bytes` (1 MiB default). */
  readonly maxRecordBytes?: number;
  /** Records handed to one `eachBatch` call at most (kafkajs' fetch size, in records). */
  readonly maxBatchRecords?: number;
  /** Wait before a consumer whose `eachBatch` threw fetches the same records again (kafkajs restarts it). */
  readonly crashRestartMs?: number;
  /** Told when an `eachBatch` throws; the batch is then redelivered from the last committed offset. */
  readonly onConsumerCrash?: (groupId: string, error: unknown) => void;
}

/** A record as the bus stores it: what a kafkajs consumer receives, plus where it lives. */
export interface StoredRecord {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

interface TopicLog {
  readonly partitions: KafkaMessage[][];
  readonly config: ReadonlyMap<string, string>;
}

/**
 * A Kafka stand-in inside one process, for the embedded demo: the part of the kafkajs client surface
 * `libs/messaging` uses (`KafkaPort`), with the broker semantics that code relies on —
 * - topics are created explicitly with their partitions (no auto creation); a send to an unknown topic fails;
 * - keys are partitioned by kafkajs' own default partitioner (murmur2), so a case lands on the partition it
 *   would on a broker, and records of a partition keep their send order;
 * - a `sendBatch` is appended whole and at once (nothing to retry, so nothing is doubled: what the idempotent
 *   producer guarantees on a broker holds trivially); a record over `maxRecordBytes` is refused with kafkajs'
 *   `MESSAGE_TOO_LARGE` protocol error, as a broker refuses it;
 * - consumer groups share partitions among their members, commit offsets per group, start a new group at the
 *   beginning or the end (`fromBeginning`), hand a partition to one `eachBatch` at a time, in offset order, and
 *   refetch from the last resolved offset what a batch left unresolved;
 * - an `eachBatch` that throws is a consumer crash: after `crashRestartMs` the records are fetched again from
 *   the last committed offset (kafkajs restarts the consumer the same way).
 * There is no session to keep (a member lives as long as its client is connected), so `heartbeat` only
 * yields; nothing is persisted, and retention is not enforced (the process is the retention).
 */
export class InProcessBus implements InProcessBusClients {
  private readonly topics = new Map<string, TopicLog>();
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly waiters = new Set<() => void>();
  private readonly partitioner = Partitioners.DefaultPartitioner();
  readonly maxRecordBytes: number;
  readonly maxBatchRecords: number;
  readonly crashRestartMs: number;

  constructor(readonly options: InProcessBusOptions = {}) {
    this.maxRecordBytes = options.maxRecordBytes ?? 1_048_576;
    this.maxBatchRecords = options.maxBatchRecords ?? 500;
    this.crashRestartMs = options.crashRestartMs ?? 1_000;
  }

  client(clientId: string): KafkaPort {
    return {
      producer: () => new InProcessProducer(this),
      consumer: (config: ConsumerConfig) => new InProcessConsumer(this, this.group(config.groupId), clientId),
      admin: (_config?: AdminConfig) => new InProcessAdmin(this),
    };
  }

  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  createTopic(config: ITopicConfig): boolean {
    if (this.topics.has(config.topic)) return false;
    const partitions = config.numPartitions ?? 1;
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new KafkaJSError(`invalid partition count ${partitions} for ${config.topic}`, {
        retriable: false,
      });
    }
    this.topics.set(config.topic, {
      partitions: Array.from({ length: partitions }, () => []),
      config: new Map((config.configEntries ?? []).map((entry) => [entry.name, entry.value])),
    });
    return true;
  }

  partitionCount(topic: string): number {
    return this.log(topic).partitions.length;
  }

  /** Every record of a topic, partition by partition, in offset order (the demo's summary reads DLQs so). */
  records(topic: string): StoredRecord[] {
    const log = this.topics.get(topic);
    if (!log) return [];
    return log.partitions.flatMap((messages, partition) =>
      messages.map((message) => ({ topic, partition, message })),
    );
  }

  /** Appends every message of a batch (all validated first, so a refused batch leaves nothing behind). */
  append(batch: ProducerBatch): RecordMetadata[] {
    const placed = (batch.topicMessages ?? []).flatMap(({ topic, messages }) => {
      const log = this.log(topic);
      return messages.map((message) => {
        const stored = storedMessage(message, '0');
        const size = (stored.key?.length ?? 0) + (stored.value?.length ?? 0) + headerBytes(stored.headers);
        if (size > this.maxRecordBytes) {
          throw protocolError('MESSAGE_TOO_LARGE', `record of ${size} bytes exceeds ${this.maxRecordBytes}`);
        }
        const partition = message.partition ?? this.partitionFor(topic, log, message);
        if (partition < 0 || partition >= log.partitions.length) {
          throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', `${topic} has no partition ${partition}`);
        }
        return { topic, partition, stored };
      });
    });
    const metadata = placed.map(({ topic, partition, stored }) => {
      const messages = this.log(topic).partitions[partition];
      const offset = String(messages.length);
      messages.push({ ...stored, offset });
      return { topicName: topic, partition, errorCode: 0, baseOffset: offset, offset };
    });
    if (placed.length > 0) this.wake();
    return metadata;
  }

  /**
   * Records not yet committed by the groups that consume them: per group, every partition of the topics
   * its running members subscribe to, from the committed offset (or the start) to the end.
   */
  backlog(): number {
    let behind = 0;
    for (const group of this.groups.values()) {
      for (const topic of group.subscribedTopics()) {
        const log = this.topics.get(topic);
        if (!log) continue;
        for (const [partition, messages] of log.partitions.entries()) {
          const committed = group.committed.get(partitionKey(topic, partition)) ?? 0n;
          behind += Math.max(0, messages.length - Number(committed));
        }
      }
    }
    return behind;
  }

  /** Records of a partition from an offset on (at most `maxBatchRecords`), and the partition's end. */
  fetch(topic: string, partition: number, from: bigint): { messages: KafkaMessage[]; end: bigint } {
    const messages = this.log(topic).partitions[partition];
    const start = Number(from);
    return {
      messages: messages.slice(start, start + this.maxBatchRecords),
      end: BigInt(messages.length),
    };
  }

  endOffset(topic: string, partition: number): bigint {
    return BigInt(this.log(topic).partitions[partition].length);
  }

  /** Resolves on the next append anywhere, or after `ms` (so stopping consumers notice in time). */
  nextAppend(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private group(groupId: string): ConsumerGroup {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new ConsumerGroup(groupId);
      this.groups.set(groupId, group);
    }
    return group;
  }

  private log(topic: string): TopicLog {
    const log = this.topics.get(topic);
    if (!log) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host topic ${topic}`);
    return log;
  }

  private partitionFor(topic: string, log: TopicLog, message: Message): number {
    return this.partitioner({
      topic,
      message,
      partitionMetadata: log.partitions.map((_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: 0,
        replicas: [0],
        isr: [0],
      })),
    });
  }
}

class InProcessProducer implements KafkaProducerPort {
  private connected = false;

  constructor(private readonly bus: InProcessBus) {}

  connect(): Promise<void> {
    this.connected = true;
    return Promise.resolve();
  }

  disconnect(): Promise<void> {
    this.connected = false;
    return Promise.resolve();
  }

  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    if (!this.connected) return Promise.reject(new KafkaJSError('The producer is disconnected'));
    try {
      return Promise.resolve(this.bus.append(batch));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

class InProcessAdmin implements KafkaAdminPort {
  constructor(private readonly bus: InProcessBus) {}

  connect(): Promise<void> {
    return Promise.resolve();
  }

  disconnect(): Promise<void> {
    return Promise.resolve();
  }

  listTopics(): Promise<string[]> {
    return Promise.resolve(this.bus.topicNames());
  }

  createTopics(options: { topics: ITopicConfig[] }): Promise<boolean> {
    try {
      // Like a broker: true only when every topic was created; existing ones are left as they are.
      const created = options.topics.map((topic) => this.bus.createTopic(topic));
      return Promise.resolve(created.every(Boolean));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  describeCluster(): Promise<{
    brokers: Array<{ nodeId: number; host: string; port: number }>;
    controller: number | null;
    clusterId: string;
  }> {
    return Promise.resolve({
      brokers: [{ nodeId: 0, host: 'in-process', port: 0 }],
      controller: 0,
      clusterId: 'in-process',
    });
  }
}

/** A group's committed offsets and its members; partitions are dealt round robin among them. */
class ConsumerGroup {
  readonly committed = new Map<string, bigint>();
  private readonly members: InProcessConsumer[] = [];
  generation = 0;

  constructor(readonly id: string) {}

  join(member: InProcessConsumer): void {
    this.members.push(member);
    this.generation++;
  }

  leave(member: InProcessConsumer): void {
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
    this.generation++;
  }

  subscribedTopics(): Set<string> {
    return new Set(this.members.flatMap((member) => member.subscribedTopics()));
  }

  /** Whether a partition is this member's in the current generation. */
  owns(member: InProcessConsumer, topic: string, partition: number): boolean {
    const subscribed = this.members.filter((candidate) => candidate.subscribes(topic));
    return subscribed.length > 0 && subscribed[partition % subscribed.length] === member;
  }
}

type PartitionKey = `${string}\u0000${number}`;

function partitionKey(topic: string, partition: number): PartitionKey {
  return `${topic}\u0000${partition}`;
}

class InProcessConsumer implements KafkaConsumerPort {
  private readonly topics = new Set<string>();
  private fromBeginning = false;
  private running = false;
  private loop: Promise<void> | undefined;
  /** Next offset to fetch per partition: the last resolved offset + 1 (kafkajs refetches what is unresolved). */
  private readonly positions = new Map<PartitionKey, bigint>();
  private readonly resolved = new Map<PartitionKey, bigint>();
  private readonly paused = new Set<PartitionKey>();

  constructor(
    private readonly bus: InProcessBus,
    private readonly group: ConsumerGroup,
    private readonly clientId: string,
  ) {}

  subscribedTopics(): string[] {
    return this.running ? [...this.topics] : [];
  }

  subscribes(topic: string): boolean {
    return this.running && this.topics.has(topic);
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  subscribe(subscription: ConsumerSubscribeTopics | ConsumerSubscribeTopic): Promise<void> {
    const names = 'topics' in subscription ? subscription.topics : [subscription.topic];
    for (const name of names) {
      if (typeof name !== 'string') {
        return Promise.reject(new KafkaJSError('the in-process bus subscribes to named topics only'));
      }
      // Throws for an unknown topic, as kafkajs does without auto creation.
      try {
        this.bus.partitionCount(name);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      this.topics.add(name);
    }
    this.fromBeginning = subscription.fromBeginning ?? false;
    return Promise.resolve();
  }

  run(config: ConsumerRunConfig = {}): Promise<void> {
    const { eachBatch } = config;
    if (!eachBatch) {
      return Promise.reject(
        new KafkaJSError(`${this.clientId}: the in-process bus runs eachBatch handlers only`),
      );
    }
    if (this.running) return Promise.reject(new KafkaJSError('the consumer is already running'));
    this.running = true;
    this.group.join(this);
    this.loop = this.consume(eachBatch, config);
    return Promise.resolve();
  }

  /** Lets the batches in flight end (they see `isRunning()` false), commits nothing more, leaves the group. */
  async disconnect(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.loop;
    this.group.leave(this);
  }

  private async consume(
    eachBatch: NonNullable<ConsumerRunConfig['eachBatch']>,
    config: ConsumerRunConfig,
  ): Promise<void> {
    const concurrency = Math.max(1, config.partitionsConsumedConcurrently ?? 1);
    const inFlight = new Map<PartitionKey, Promise<void>>();
    while (this.running) {
      let started = false;
      for (const topic of this.topics) {
        for (let partition = 0; partition < this.bus.partitionCount(topic); partition++) {
          const key = partitionKey(topic, partition);
          if (inFlight.size >= concurrency) break;
          if (inFlight.has(key) || this.paused.has(key) || !this.group.owns(this, topic, partition)) continue;
          const from = this.position(topic, partition);
          const { messages, end } = this.bus.fetch(topic, partition, from);
          if (messages.length === 0) continue;
          started = true;
          const run = this.runBatch(eachBatch, config, topic, partition, messages, end).finally(() =>
            inFlight.delete(key),
          );
          inFlight.set(key, run);
        }
      }
      if (inFlight.size >= concurrency) await Promise.race(inFlight.values());
      else if (!started) await Promise.race([this.bus.nextAppend(100), ...inFlight.values()]);
    }
    await Promise.all(inFlight.values());
  }

  private position(topic: string, partition: number): bigint {
    const key = partitionKey(topic, partition);
    const known = this.positions.get(key) ?? this.group.committed.get(key);
    if (known !== undefined) return known;
    const start = this.fromBeginning ? 0n : this.bus.endOffset(topic, partition);
    this.positions.set(key, start);
    return start;
  }

  private async runBatch(
    eachBatch: NonNullable<ConsumerRunConfig['eachBatch']>,
    config: ConsumerRunConfig,
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    end: bigint,
  ): Promise<void> {
    const key = partitionKey(topic, partition);
    const generation = this.group.generation;
    const highWatermark = String(end);
    const lastOffset = messages[messages.length - 1].offset;
    const payload: EachBatchPayload = {
      batch: {
        topic,
        partition,
        highWatermark,
        messages,
        isEmpty: () => messages.length === 0,
        firstOffset: () => messages[0]?.offset ?? null,
        lastOffset: () => lastOffset,
        offsetLag: () => String(this.bus.endOffset(topic, partition) - 1n - BigInt(lastOffset)),
        offsetLagLow: () => String(this.bus.endOffset(topic, partition) - 1n - BigInt(messages[0].offset)),
      },
      resolveOffset: (offset) => {
        this.resolved.set(key, BigInt(offset) + 1n);
      },
      heartbeat: () => new Promise<void>((resolve) => setImmediate(resolve)),
      pause: () => {
        this.paused.add(key);
        return () => this.paused.delete(key);
      },
      commitOffsetsIfNecessary: (offsets?: Offsets) => {
        this.commit(offsets ?? this.uncommitted(key, topic, partition));
        return Promise.resolve();
      },
      uncommittedOffsets: () => this.uncommitted(key, topic, partition),
      isRunning: () => this.running,
      // A partition dealt to another member since the batch began (a member joined or left).
      isStale: () => generation !== this.group.generation && !this.group.owns(this, topic, partition),
    };
    try {
      await eachBatch(payload);
      if (config.eachBatchAutoResolve ?? true) payload.resolveOffset(lastOffset);
      if (config.autoCommit ?? true) this.commit(this.uncommitted(key, topic, partition));
      // The next fetch starts after the last resolved record; unresolved ones come again.
      this.positions.set(key, this.resolved.get(key) ?? this.position(topic, partition));
    } catch (error) {
      this.bus.options.onConsumerCrash?.(this.group.id, error);
      await new Promise((resolve) => setTimeout(resolve, this.bus.crashRestartMs));
      // kafkajs restarts a crashed consumer from the committed offsets.
      this.positions.delete(key);
      this.resolved.delete(key);
    }
  }

  private uncommitted(key: PartitionKey, topic: string, partition: number): OffsetsByTopicPartition {
    const resolved = this.resolved.get(key);
    const committed = this.group.committed.get(key);
    if (resolved === undefined || (committed !== undefined && committed >= resolved)) return { topics: [] };
    return { topics: [{ topic, partitions: [{ partition, offset: String(resolved) }] }] };
  }

  private commit(offsets: Offsets): void {
    for (const { topic, partitions } of offsets.topics) {
      for (const { partition, offset } of partitions) {
        this.group.committed.set(partitionKey(topic, partition), BigInt(offset));
      }
    }
  }
}

function storedMessage(message: Message, offset: string): KafkaMessage {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.map(toBuffer) : toBuffer(value);
  }
  return {
    key: message.key === undefined || message.key === null ? null : toBuffer(message.key),
    value: message.value === null ? null : toBuffer(message.value),
    timestamp: message.timestamp ?? String(Date.now()),
    attributes: 0,
    offset,
    headers,
  };
}

function toBuffer(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value) : value;
}

function headerBytes(headers: IHeaders | undefined): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(headers ?? {})) {
    const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
    for (const item of values) bytes += name.length + item.length;
  }
  return bytes;
}

// kafkajs reports broker refusals as protocol errors whose `type` names the Kafka error code; its constructor
// copies `type`, `code` and `retriable` from the error it is given.
function protocolError(type: string, message: string): KafkaJSProtocolError {
  const brokerError: Error & { type: string; code: number; retriable: boolean } = {
    name: 'KafkaJSProtocolError',
    message,
    type,
    code: protocolCodes[type] ?? -1,
    retriable: false,
  };
  return new KafkaJSProtocolError(brokerError);
}

const protocolCodes: Readonly<Record<string, number>> = {
  MESSAGE_TOO_LARGE: 10,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
};
