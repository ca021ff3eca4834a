import type { KafkaPort, KafkaProducerPort } from './kafka-port';
import type { MessagingMetrics } from './messaging.metrics';

/** A record ready for Kafka: already encoded, headers included. */
export interface OutgoingRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

/** The port every publication goes through; resolves only once the broker has acknowledged every record. */
export interface RecordSender {
  send(records: readonly OutgoingRecord[]): Promise<void>;
}

/**
 * kafkajs idempotent producer (acks = all, one in-flight request): broker-side deduplication of
 * producer retries, and per-partition order kept across them.
 */
export class KafkaRecordSender implements RecordSender {
  private readonly producer: KafkaProducerPort;
  private connected: Promise<void> | undefined;

  constructor(
    kafka: KafkaPort,
    private readonly metrics?: MessagingMetrics,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
  }

  async send(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.connected ??= this.producer.connect();
    await this.connected;
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const record of records) {
      const topicRecords = byTopic.get(record.topic);
      if (topicRecords) topicRecords.push(record);
      else byTopic.set(record.topic, [record]);
    }
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, topicRecords]) => ({
        topic,
        messages: topicRecords.map((record) => ({
          key: record.key,
          value: record.value,
          headers: { ...record.headers },
        })),
      })),
    });
    for (const [topic, topicRecords] of byTopic) this.metrics?.published.inc({ topic }, topicRecords.length);
  }

  async disconnect(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
    this.connected = undefined;
  }
}
