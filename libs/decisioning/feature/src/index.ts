/** The decisioning service's feature: Kafka inbox, decide use case, case memory and its migration. */
export { DecideUseCase, type DecideDeps, type DecisionOutcome } from './decide.usecase';
export {
  DecisionPolicies,
  type DecisionPoliciesOptions,
  type PoliciesInForce,
  type PolicySet,
} from './decision-policies';
export { DecisionPublisher } from './decision-publisher';
export {
  DecisionWorker,
  type DecisionQueueShardsPort,
  type DecisionQueuePort,
  type DecisionWorkerOptions,
} from './decision-worker';
export {
  type DecisionWorkerConfig,
  decisionWorkerConfigSchema,
  decisionWorkerConfigShape,
} from './decision-worker.config';
export { caseEventTrigger, decisionRequestedTransition, workflowDecisionTrigger } from './decision-triggers';
export { type DecisioningConfig, decisioningConfigSchema } from './decisioning.config';
export { DecisioningModule, type DecisioningModuleOptions } from './decisioning.module';
export {
  DecisioningServiceError,
  type DecisioningServiceErrorCode,
  decisioningServiceErrors,
} from './decisioning-service.error';
export { CaseMemoryRepository, type RememberedEvent } from './persistence/case-memory.repository';
export { DecisioningDecisionQueue1764400000100 } from './persistence/decision-queue.migration';
export {
  DecisionQueueRepository,
  type PendingTrigger,
  type QueuedTrigger,
  type TriggerEnvelope,
} from './persistence/decision-queue.repository';
export { DecisioningTables1764100000100 } from './persistence/decisioning-tables.migration';
