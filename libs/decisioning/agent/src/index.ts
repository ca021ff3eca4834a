/** The agent runtime: the decision loop, the model on the openai SDK, retrieval over HTTP, and offline replay. */
export { DecisionAgent, type DecisionAgentDeps } from './decision-agent';
export { decisionIdOf, shadowDecisionIdOf } from './decision-id';
export { RecordedChatModel, replayDecision, replayUnderArtifacts } from './decision-replay';
export {
  DecisioningAgentError,
  type DecisioningAgentErrorCode,
  decisioningAgentErrors,
} from './decisioning-agent.error';
export { OpenAiChatModel, type OpenAiChatModelOptions } from './openai-chat.model';
export {
  type CaseHistory,
  type ChatModel,
  type ChatRequest,
  type KnowledgeSearch,
  type MonotonicClock,
} from './ports';
export { RetrievalKnowledgeSearch, type RetrievalKnowledgeSearchOptions } from './retrieval-knowledge.search';
export { SharedKnowledgeSearches } from './shared-knowledge.searches';
