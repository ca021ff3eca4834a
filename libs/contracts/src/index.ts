export { cloudEventAttributesSchema, type CloudEvent, type CloudEventAttributes } from './cloud-event';
export { ContractViolationError, type Violation } from './contract-violation.error';
export { approvalAnswerTypes, serviceSource } from './event-sources';
export { buildEvent, decodeEvent, encodeEvent, type EventDraft } from './event-codec';
export { fromKafkaRecord, toKafkaRecord, type EncodedRecord, type KafkaRecord } from './kafka-binding';
export {
  allTopics,
  deadLetterRetentionMs,
  deadLetterSuffix,
  deadLetterTopicName,
  namespacedTopics,
  recordLifetimeMs,
  topicSegmentMs,
  topics,
  type AnyTopic,
  type ServiceName,
  type TopicData,
  type TopicDefinition,
  type TopicKey,
} from './topic-registry';
export { approvalEventSchema, type ApprovalEvent } from './schemas/approval.schema';
export { caseEventSchema, type CaseEvent } from './schemas/case-event.schema';
export {
  contextChunkSchema,
  contextQueryPath,
  contextQueryRequestSchema,
  contextQueryResponseSchema,
  retrievalModeSchema,
  type ContextChunk,
  type ContextQueryRequest,
  type ContextQueryRequestInput,
  type ContextQueryResponse,
  type RetrievalMode,
} from './schemas/context-query.schema';
export {
  decisionRecordSchema,
  decisionToolSchema,
  type DecisionRecord,
  type DecisionTool,
} from './schemas/decision.schema';
export { knowledgeDocumentSchema, type KnowledgeDocument } from './schemas/knowledge-document.schema';
export {
  artifactKindSchema,
  releaseContentsSchema,
  releaseEventSchema,
  releaseQualitySchema,
  releasedVersionSchema,
  type ReleaseContents,
  type ReleaseEvent,
  type ReleaseQuality,
} from './schemas/release.schema';
export { sourceRawEventSchema, type SourceRawEvent } from './schemas/source-raw.schema';
export { supportNotificationSchema, type SupportNotification } from './schemas/support-notification.schema';
export { workflowCommandSchema, type WorkflowCommand } from './schemas/workflow-command.schema';
export { workflowEventSchema, type WorkflowEvent } from './schemas/workflow-event.schema';
