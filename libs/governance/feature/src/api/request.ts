import { artifactKindSchema, releaseQualitySchema } from '@keel/contracts';
import { GovernanceError } from '@keel/governance-domain';
import { roles } from '@keel/access';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';

/** Validates a request part; `invalid-request` names every violation with its path. */
export function parsed<T extends z.ZodType>(schema: T, value: unknown, part: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const violations = result.error.issues.map((issue) => ({
    path: [part, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw new GovernanceError('invalid-request', `invalid ${part}`, { details: { violations } });
}

/** The OpenAPI schema of a request schema, so the document cannot drift from validation. */
export function openApi(schema: z.ZodType): SchemaObject {
  return z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0' }) as SchemaObject;
}

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'lower-case letters, digits, . _ - (at most 100)');
const versionNumber = z.coerce.number().int().min(1);

export const artifactPathSchema = z.object({ kind: artifactKindSchema, name });
export const versionPathSchema = artifactPathSchema.extend({ version: versionNumber });
export const diffQuerySchema = z.object({ from: versionNumber, to: versionNumber });
export const registerBodySchema = z.strictObject({ content: z.record(z.string(), z.unknown()) });

const choice = z.strictObject({ name, version: z.number().int().min(1) });
export const proposalBodySchema = z.strictObject({
  id: name,
  agentPolicy: choice,
  prompt: choice,
  model: z.string().min(1).max(200),
  guardrailPolicy: choice,
  workflowTemplates: z.array(choice).max(100),
  quality: releaseQualitySchema.strict().optional(),
});
export const releasePathSchema = z.object({ id: name });
export const reasonBodySchema = z.strictObject({ reason: z.string().min(1).max(1000) });
export const promoteBodySchema = z.strictObject({ stage: z.enum(['shadow', 'production']) });

export const apiKeyBodySchema = z.strictObject({
  client: name,
  roles: z.array(z.enum(roles)).min(1),
});
export const tokenBodySchema = z.strictObject({ apiKey: z.string().min(1).max(200) });

export const casePathSchema = z.object({ caseId: z.string().min(1).max(200) });
export const approvalPathSchema = z.object({ id: z.string().min(1).max(400) });
export const approvalListQuerySchema = z.strictObject({
  status: z.enum(['pending', 'granted', 'rejected', 'withdrawn']).default('pending'),
  role: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const retentionBodySchema = z.strictObject({
  /** Rows recorded before this instant are pruned. */
  before: z.iso.datetime({ offset: true }),
});
