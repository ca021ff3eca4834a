/**
 * Pure core of Keel's durable workflow engine: definitions as validated data, instance state as plain JSON and
 * one deterministic `transition` that turns (state, input, now) into (state, commands). All I/O — Kafka,
 * Postgres, HTTP, timers, people — belongs to the shell that executes the commands.
 */

// Definitions
export {
  type ApprovalStep,
  type ChoiceStep,
  type ConnectorCall,
  type DecisionStep,
  type EndStep,
  type HttpCall,
  type KafkaCall,
  type ParallelBranch,
  type ParallelStep,
  type PostgresCall,
  type TaskRetryPolicy,
  type StepDefinition,
  type StepId,
  type StepKind,
  type TaskStep,
  type Template,
  type WaitStep,
  type WorkflowDefinition,
  type WorkflowDefinitionData,
  type WorkflowSchedule,
  defaultTaskRetryPolicy,
  defaultStartToCloseMs,
  stepKinds,
  workflowDefinitionSchema,
} from './definition.schema';
export { loadDefinition } from './definition-loader';
export {
  type DefinitionProblem,
  DefinitionProblemCode,
  WorkflowDefinitionError,
  WorkflowDefinitionErrorCode,
} from './definition.error';
export {
  type ApprovalSpec,
  BranchBuilder,
  type ChoiceSpec,
  type DecisionSpec,
  type EndSpec,
  type ParallelSpec,
  StepsBuilder,
  type TaskSpec,
  type WaitSpec,
  WorkflowBuilder,
  workflow,
} from './builder';
export { type DefinitionSummary, type StepSummary, describeDefinition } from './describe-definition';
export { nextScheduledStart } from './schedule';
export { workflowTemplates } from './templates/workflow-templates';

// Instances
export {
  type CompensationEntry,
  type InstanceFailure,
  type InstanceStatus,
  type PendingApproval,
  type PendingDecision,
  type PendingTimer,
  type StepExecution,
  type TerminalStatus,
  type Token,
  type WorkflowInstanceState,
  assertPinned,
  isTerminal,
} from './instance-state';
export { type InputOfType, type StartInput, type WorkflowInput, workflowInputSchema } from './engine-input';
export {
  type AttemptTimeouts,
  type CancelTimerCommand,
  type CompleteCommand,
  type EmitEventCommand,
  type ExecuteCompensationCommand,
  type ExecuteTaskCommand,
  type RenderedConnectorCall,
  type RequestApprovalCommand,
  type RequestDecisionCommand,
  type ScheduleTimerCommand,
  type TimerPurpose,
  type EngineCommand,
  type WorkflowEventName,
} from './engine-command';
export { WorkflowEngineError, type WorkflowEngineErrorCode, workflowEngineErrors } from './engine.error';
export { type IgnoredInput, type IgnoredInputCode, type TransitionResult, transition } from './transition';
export { recoveryCommands } from './recovery';
export {
  type ApprovalBehaviour,
  type CompensationBehaviour,
  type DecisionBehaviour,
  type SimulationOptions,
  type SimulationResult,
  type SimulationScript,
  type SimulationStep,
  type TaskBehaviour,
  simulate,
} from './simulator';

// Data helpers
export { type JsonObject, type JsonValue, NotJsonError, canonicalJson } from './json-value';
