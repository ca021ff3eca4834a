import type { Admin, AdminConfig, Consumer, ConsumerConfig, Producer, ProducerConfig } from 'kafkajs';

/** What `libs/messaging` calls on a producer: the idempotent batch send. */
export type KafkaProducerPort = Pick<Producer, 'connect' | 'disconnect' | 'sendBatch'>;
/** What `libs/messaging` calls on a consumer: group membership with `eachBatch` and manual commits. */
export type KafkaConsumerPort = Pick<Consumer, 'connect' | 'disconnect' | 'subscribe' | 'run'>;
/** What `libs/messaging` calls on the admin client: topic provisioning and the readiness probe. */
export type KafkaAdminPort = Pick<
  Admin,
  'connect' | 'disconnect' | 'listTopics' | 'createTopics' | 'describeCluster'
>;

/**
 * The part of the kafkajs client surface `libs/messaging` uses. A kafkajs `Kafka` satisfies it, and so does
 * the in-process bus (`in-process/`), which is how the embedded demo runs the same consumer and relay code.
 */
export interface KafkaPort {
  producer(config?: ProducerConfig): KafkaProducerPort;
  consumer(config: ConsumerConfig): KafkaConsumerPort;
  admin(config?: AdminConfig): KafkaAdminPort;
}
