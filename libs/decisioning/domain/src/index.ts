/** Pure decisioning: guardrail policy, offline planner, tool catalogue and decision records. No I/O, no clock. */
export {
  type AgentPolicy,
  type Prompt,
  agentPolicySchema,
  loadAgentPolicy,
  loadPrompt,
  promptSchema,
} from './agent-policy';
export { type DecisionArtifacts, artifactRef, artifactsInStage, currentArtifacts } from './artifacts';
export {
  type DecisionRun,
  type ModelExchange,
  buildDecisionRecord,
  recordBytes,
} from './decision-record.builder';
export {
  type CaseEventTrigger,
  type DecisionTrigger,
  type JsonObject,
  type WorkflowDecisionTrigger,
  eventTypeOf,
  subjectOf,
  workflowDecisionEventType,
} from './decision-trigger';
export {
  DecisioningDomainError,
  type DecisioningDomainErrorCode,
  decisioningDomainErrors,
} from './decisioning-domain.error';
export {
  type GuardrailPolicy,
  type GuardrailVerdict,
  type Risk,
  type RuleEvaluation,
  evaluateGuardrails,
  guardrailPolicySchema,
  loadGuardrailPolicy,
  toolsOffered,
} from './guardrail-policy';
export {
  type CaseHistoryEntry,
  type KnowledgeChunk,
  type LookupResult,
  type Observation,
  chunksIn,
  historyIn,
} from './observation';
export { offlinePlannerVersion, planOffline } from './offline-planner';
export {
  type ActionProposal,
  type ActionTool,
  type LookupCall,
  type LookupTool,
  type ProposedCall,
  type ToolDefinition,
  type ToolName,
  actionTools,
  isLookupTool,
  lookupTools,
  parseToolCall,
  toolDefinitions,
  toolNames,
} from './tool-catalogue';
export { asShadowOf, sameAction, withShadowSection } from './shadow-comparison';
export { type WorkflowAnswer, workflowAnswerOf } from './workflow-answer.policy';
