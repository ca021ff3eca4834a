import { loadDefinition } from '../definition-loader';
import { type WorkflowDefinition } from '../definition.schema';
import exceptionHandling from './exception-handling.workflow.json';
import orderRouting from './order-routing.workflow.json';
import supportRouting from './support-routing.workflow.json';

/**
 * The built-in templates: `order-routing`, `exception-handling` and `support-routing`, all v1. HTTP calls name a
 * `service` whose base URL the workflow service is configured with; paths are relative to it.
 */
export const workflowTemplates: readonly WorkflowDefinition[] = [
  orderRouting,
  exceptionHandling,
  supportRouting,
].map((template) => loadDefinition(template));
