import { z } from 'zod';
import { identifierSchema, sha256HexSchema } from './common.schema';

export const artifactKindSchema = z.enum([
  'agent-policy',
  'prompt',
  'workflow-template',
  'guardrail-policy',
  'event-schema',
]);

/** A registry version as a release names it: the hash lets a consumer check it runs exactly what was approved. */
export const releasedVersionSchema = z.object({
  name: identifierSchema,
  version: z.number().int().min(1),
  contentHash: sha256HexSchema,
});

/** What is in force together: promoted and rolled back as one unit. */
export const releaseContentsSchema = z.object({
  agentPolicy: releasedVersionSchema,
  prompt: releasedVersionSchema,
  /** The chat model the agent policy runs on, e.g. `offline-planner@1` or a provider's model id. */
  model: z.string().min(1),
  guardrailPolicy: releasedVersionSchema,
  workflowTemplates: z.array(releasedVersionSchema),
});

/** `keel.governance.releases.v1`: an artifact version promoted to a stage or rolled back. */
export const releaseEventSchema = z.object({
  artifactKind: artifactKindSchema,
  artifactName: identifierSchema,
  version: z.number().int().min(1),
  contentHash: sha256HexSchema,
  action: z.enum(['promoted', 'rolled_back']),
  stage: z.enum(['shadow', 'production']),
  actor: identifierSchema,
  /**
   * The release the version moved with, whole, so a consumer applies the set at once (idempotently by id) from
   * whichever of its members' events it sees first. Added to v1; events without it stay valid.
   */
  release: z
    .object({ id: identifierSchema, tenant: identifierSchema, contents: releaseContentsSchema })
    .optional(),
});
export type ReleaseEvent = z.infer<typeof releaseEventSchema>;
export type ReleaseContents = z.infer<typeof releaseContentsSchema>;
