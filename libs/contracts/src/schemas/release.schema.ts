import { z } from 'zod';
import { identifierSchema, sha256HexSchema } from './common.schema';

export const artifactKindSchema = z.enum([
  'agent-policy',
  'prompt',
  'workflow-template',
  'guardrail-policy',
  'event-schema',
]);

/** `keel.governance.releases.v1`: an artifact version promoted to a stage or rolled back. */
export const releaseEventSchema = z.object({
  artifactKind: artifactKindSchema,
  artifactName: identifierSchema,
  version: z.number().int().min(1),
  contentHash: sha256HexSchema,
  action: z.enum(['promoted', 'rolled_back']),
  stage: z.enum(['shadow', 'production']),
  actor: identifierSchema,
});
export type ReleaseEvent = z.infer<typeof releaseEventSchema>;
