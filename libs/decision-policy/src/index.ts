/** Pure decision policy shared by the services that act on decisions (workflow) and govern them (governance). */
export {
  InvalidWorkflowDecisionError,
  type NotActedOn,
  type NotActedOnReason,
  type WorkflowStart,
  workflowStartOf,
} from './workflow-start.policy';
