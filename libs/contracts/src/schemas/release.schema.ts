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

/**
 * The quality bars a release sets for itself (governance's replay gate and drift monitor): reviewed and
 * approved with the versions, so the bar cannot be lowered after approval. Added to v1; optional.
 */
export const releaseQualitySchema = z.object({
  /** Promotion to production needs a replay over recorded decisions agreeing at least this much. */
  replayGate: z
    .object({
      /** Share of replayed decisions whose action (tool, arguments, need for approval) is unchanged. */
      minAgreement: z.number().min(0).max(1),
      /** At most this many replayed decisions may change, whatever the share. */
      maxChangedDecisions: z.number().int().min(0).optional(),
    })
    .optional(),
  /** Drift of this release's decisions against the ones before its promotion. */
  drift: z
    .object({
      /** Total variation distance between the two windows' action mixes (0 = same mix, 1 = disjoint). */
      maxMixShift: z.number().min(0).max(1).optional(),
      /** Largest allowed fall of the mean confidence. */
      maxConfidenceDrop: z.number().min(0).max(1).optional(),
      /** Largest allowed rise of the share of decisions a person overrode. */
      maxOverrideRateRise: z.number().min(0).max(1).optional(),
      /** Roll the release back by itself on a breach (audited); otherwise the breach only alerts. */
      autoRollback: z.boolean(),
    })
    .optional(),
});

/** What is in force together: promoted and rolled back as one unit. */
export const releaseContentsSchema = z.object({
  agentPolicy: releasedVersionSchema,
  prompt: releasedVersionSchema,
  /** The chat model the agent policy runs on, e.g. `offline-planner@1` or a provider's model id. */
  model: z.string().min(1),
  guardrailPolicy: releasedVersionSchema,
  workflowTemplates: z.array(releasedVersionSchema),
  quality: releaseQualitySchema.optional(),
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
    .object({
      id: identifierSchema,
      tenant: identifierSchema,
      contents: releaseContentsSchema,
      /**
       * The tenant's lifecycle position after the step, strictly increasing per tenant and shared by every
       * event of one step: consumers apply steps in this order and skip what they applied (a rollback
       * re-activates an id seen before, so the id alone cannot order). Added to v1; optional.
       */
      sequence: z.number().int().min(1).optional(),
    })
    .optional(),
});
export type ReleaseEvent = z.infer<typeof releaseEventSchema>;
export type ReleaseContents = z.infer<typeof releaseContentsSchema>;
export type ReleaseQuality = z.infer<typeof releaseQualitySchema>;
