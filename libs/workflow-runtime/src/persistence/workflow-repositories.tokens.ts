/** Nest injection tokens of the workflow service's persistence ports (`workflow-repositories.ts`). */
export const WORKFLOW_REPOSITORIES = Symbol('keel.workflow-repositories');
export const WORKFLOW_TRANSACTIONS = Symbol('keel.workflow-transactions');
