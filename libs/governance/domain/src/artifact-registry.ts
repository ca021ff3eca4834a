import { type artifactKindSchema } from '@keel/contracts';
import { type z } from 'zod';
import { type JsonValue, canonicalJson } from './canonical-json';
import { contentHashOf } from './content-hash';
import { GovernanceError } from './governance.error';

export type ArtifactKind = z.infer<typeof artifactKindSchema>;

/** One thing wrong with an artifact's content, where it is and why. */
export interface ArtifactProblem {
  /** Location in the content, e.g. `steps.confirm.next`; empty for the whole document. */
  readonly path: string;
  readonly message: string;
}

/** A kind's own validator: every problem at once, so an author fixes a draft in one round. */
export interface ArtifactValidator {
  validate(content: unknown): readonly ArtifactProblem[];
}

/** One validator per kind: a new kind without one does not compile. */
export type ArtifactValidators = Readonly<Record<ArtifactKind, ArtifactValidator>>;

/** Adapts a zod schema (e.g. decisioning's guardrail policy schema) to the validator port. */
export function zodArtifactValidator(schema: z.ZodType): ArtifactValidator {
  return {
    validate(content) {
      const parsed = schema.safeParse(content);
      if (parsed.success) return [];
      return parsed.error.issues.map((issue) => ({
        path: issue.path
          .map((segment) => (typeof segment === 'number' ? `[${segment}]` : String(segment)))
          .join('.')
          .replace(/\.\[/g, '['),
        message: issue.message,
      }));
    },
  };
}

/** An immutable, content-hashed version of a named artifact in one tenant's registry. */
export interface ArtifactVersion {
  readonly tenant: string;
  readonly kind: ArtifactKind;
  readonly name: string;
  /** 1, 2, 3… per (tenant, kind, name), never reused. */
  readonly version: number;
  /** sha-256 of the content's canonical JSON. */
  readonly contentHash: string;
  readonly content: JsonValue;
  readonly author: string;
  readonly createdAt: string;
}

export interface NewArtifactVersion {
  readonly tenant: string;
  readonly kind: ArtifactKind;
  readonly name: string;
  readonly content: unknown;
  readonly author: string;
  /** ISO time, from the caller's clock. */
  readonly createdAt: string;
}

/** What registering content did: a new version, or nothing because the latest version already holds it. */
export type Registration =
  | { readonly outcome: 'created'; readonly version: ArtifactVersion }
  | { readonly outcome: 'unchanged'; readonly version: ArtifactVersion };

/**
 * Decides the version that `content` becomes after `latest` (the artifact's newest version, if any). Content is
 * validated by its kind's validator; content equal to the latest version's is not a new version, so a retried
 * request registers once.
 *
 * @throws GovernanceError `invalid-artifact` with every problem in `details`.
 */
export function registerVersion(
  request: NewArtifactVersion,
  latest: ArtifactVersion | undefined,
  validators: ArtifactValidators,
): Registration {
  const problems = validators[request.kind].validate(request.content);
  if (problems.length > 0) {
    throw new GovernanceError(
      'invalid-artifact',
      `${request.kind} '${request.name}' has ${problems.length} problem(s): ${problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; ')}`,
      { details: { problems } },
    );
  }
  // Parsed back from canonical JSON so what is stored is exactly what was hashed.
  const content = JSON.parse(canonicalJson(request.content)) as JsonValue;
  const contentHash = contentHashOf(content);
  if (latest !== undefined && latest.contentHash === contentHash)
    return { outcome: 'unchanged', version: latest };
  return {
    outcome: 'created',
    version: {
      tenant: request.tenant,
      kind: request.kind,
      name: request.name,
      version: (latest?.version ?? 0) + 1,
      contentHash,
      content,
      author: request.author,
      createdAt: request.createdAt,
    },
  };
}
