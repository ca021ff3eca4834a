export { parseEventLine, type ParsedLine } from './event-lines';
export {
  HttpIngestionClient,
  type HttpIngestionClientOptions,
  type NumberedEvent,
} from './http-ingestion.client';
export { KafkaIngestionClient, type KafkaIngestionClientOptions } from './kafka-ingestion.client';
export { type EventSink, sendLines, type SendLinesOptions } from './send-lines';
export { summarize, type SendOutcome, type SendResult, type SendSummary } from './send-result';
