import { agentPolicySchema, guardrailPolicySchema, promptSchema } from '@keel/decisioning-domain';
import {
  type ArtifactValidator,
  type ArtifactValidators,
  zodArtifactValidator,
} from '@keel/governance-domain';
import { SourceCatalog, SourceDefinitionError } from '@keel/ingestion-domain';
import { WorkflowDefinitionError, loadDefinition } from '@keel/workflow-engine';

// Governance validates each kind with the owning service's own loader, so the registry accepts exactly what
// that service will load: a template with every problem the engine finds, a policy by decisioning's schema.
const workflowTemplate: ArtifactValidator = {
  validate(content) {
    try {
      loadDefinition(content);
      return [];
    } catch (error) {
      if (!(error instanceof WorkflowDefinitionError)) throw error;
      return error.problems.map((problem) => ({ path: problem.path, message: problem.message }));
    }
  },
};

const eventSchema: ArtifactValidator = {
  validate(content) {
    try {
      // Compiles the JSON Schema and every mapping expression, as ingestion does at load.
      new SourceCatalog([content], { maxPayloadDepth: 32 });
      return [];
    } catch (error) {
      if (!(error instanceof SourceDefinitionError)) throw error;
      return [{ path: '', message: error.message }];
    }
  },
};

/** The validator of each governed kind. */
export const governedArtifactValidators: ArtifactValidators = {
  'agent-policy': zodArtifactValidator(agentPolicySchema),
  prompt: zodArtifactValidator(promptSchema),
  'workflow-template': workflowTemplate,
  'guardrail-policy': zodArtifactValidator(guardrailPolicySchema),
  'event-schema': eventSchema,
};
