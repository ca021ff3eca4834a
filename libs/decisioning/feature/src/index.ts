/** The decisioning service's feature: Kafka inbox, decide use case, case memory and its migration. */
export { DecideUseCase, type DecideDeps, type TriggerEnvelope } from './decide.usecase';
export { caseEventTrigger, decisionRequestedTransition, workflowDecisionTrigger } from './decision-triggers';
export { type DecisioningConfig, decisioningConfigSchema } from './decisioning.config';
export { DecisioningModule, type DecisioningModuleOptions } from './decisioning.module';
export {
  DecisioningServiceError,
  type DecisioningServiceErrorCode,
  decisioningServiceErrors,
} from './decisioning-service.error';
export { CaseMemoryRepository, type RememberedEvent } from './persistence/case-memory.repository';
export { DecisioningTables1764100000100 } from './persistence/decisioning-tables.migration';
