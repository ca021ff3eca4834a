export {
  deadLetterHeaders,
  deadLetterRecord,
  truncatedDeadLetterRecord,
  truncatedValueBytes,
  type DeadLetterFailure,
  type DeadLetterOrigin,
  type DeadLetterReason,
} from './dead-letter';
export {
  EventConsumer,
  subscribe,
  subscribeRuns,
  type ConsumerLogger,
  type EventConsumerOptions,
  type EventContext,
  type EventFilter,
  type EventHandler,
  type EventRunContext,
  type EventRunHandler,
  type Subscription,
  type SubscriptionOptions,
} from './event-consumer';
export { EventPublisher } from './event-publisher';
export { createKafka, kafkaClient, type KafkaClientOptions } from './kafka-client';
export type { KafkaAdminPort, KafkaConsumerPort, KafkaPort, KafkaProducerPort } from './kafka-port';
export {
  inProcessBusAt,
  serveInProcessBus,
  type InProcessBusClients,
} from './in-process/in-process-registry';
export { InProcessBus, type InProcessBusOptions, type StoredRecord } from './in-process/in-process-bus';
export { kafkaReadinessCheck } from './kafka-readiness';
export { MessagingRetention, type MessagingRetentionOptions } from './messaging-retention';
export {
  MessagingSchema,
  messagingDeliveryCountsMigration,
  messagingTablesMigration,
} from './messaging-tables';
export { createMessagingMetrics, type ConsumeOutcome, type MessagingMetrics } from './messaging.metrics';
export { NonRetryableError } from './non-retryable.error';
export { PollingLoop, type PollingLoopOptions } from './polling-loop';
export { guardIn, outboxCte, type OutboxInsert, OutboxWriter } from './outbox';
export { OutboxRelay, type OutboxRelayOptions } from './outbox-relay';
export { KafkaRecordSender, type OutgoingRecord, type RecordSender } from './record-sender';
export { defaultRetryPolicy, retryDelayMs, type RetryPolicy } from './retry-policy';
export {
  ensureTopics,
  topicConfigEntries,
  topicSpecsWithDeadLetters,
  type TopicSpec,
} from './topic-provisioner';
export { KafkaEventContext, KafkaEventRunContext } from './nest/kafka-event.context';
export {
  EventRunPattern,
  acceptingOnly,
  type EventPatternOptions,
  KafkaEventErrorFilter,
  KafkaEventHandlers,
} from './nest/kafka-event-handlers.decorator';
export { KafkaEventTransport, type KafkaEventTransportOptions } from './nest/kafka-event.transport';
export {
  KAFKA,
  MESSAGING_METRICS,
  MESSAGING_OPTIONS,
  MessagingModule,
  TOPICS,
  kafkaEventTransport,
  type MessagingModuleOptions,
  type Topics,
} from './nest/messaging.module';
