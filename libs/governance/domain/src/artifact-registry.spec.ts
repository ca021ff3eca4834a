import { z } from 'zod';
import {
  type ArtifactValidators,
  type NewArtifactVersion,
  registerVersion,
  zodArtifactValidator,
} from './artifact-registry';
import { contentHashOf } from './content-hash';
import { refusalOf } from './testing/refusal-of';

const promptSchema = z.strictObject({ name: z.string().min(1), template: z.string().min(1) });
const anything = { validate: () => [] };
const validators: ArtifactValidators = {
  'agent-policy': anything,
  prompt: zodArtifactValidator(promptSchema),
  'workflow-template': anything,
  'guardrail-policy': anything,
  'event-schema': anything,
};

const request = (content: unknown): NewArtifactVersion => ({
  tenant: 'acme',
  kind: 'prompt',
  name: 'decide',
  content,
  author: 'alice',
  createdAt: '2026-12-01T10:00:00.000Z',
});

describe('registerVersion', () => {
  it('makes the first content version 1 and the next different content version 2, each hashed', () => {
    const first = registerVersion(request({ name: 'decide', template: 'v1' }), undefined, validators);
    expect(first.outcome).toBe('created');
    expect(first.version).toMatchObject({
      version: 1,
      contentHash: contentHashOf({ template: 'v1', name: 'decide' }),
    });
    const second = registerVersion(request({ name: 'decide', template: 'v2' }), first.version, validators);
    expect(second).toMatchObject({ outcome: 'created', version: { version: 2 } });
    expect(second.version.contentHash).not.toBe(first.version.contentHash);
  });

  it('registers content equal to the latest version (in any key order) once', () => {
    const first = registerVersion(request({ name: 'decide', template: 'v1' }), undefined, validators);
    const again = registerVersion(request({ template: 'v1', name: 'decide' }), first.version, validators);
    expect(again).toEqual({ outcome: 'unchanged', version: first.version });
  });

  it("refuses content its kind's validator refuses, listing every problem with its path", () => {
    const refusal = refusalOf(() =>
      registerVersion(request({ name: '', extra: true }), undefined, validators),
    );
    expect(refusal.code).toBe('invalid-artifact');
    expect(refusal.httpStatus).toBe(422);
    const { problems } = refusal.details as { problems: { path: string }[] };
    expect(problems.map((problem) => problem.path).sort()).toEqual(['', 'name', 'template']);
  });
});

describe('contentHashOf', () => {
  it('is the sha-256 of the canonical JSON, whatever the key order', () => {
    expect(contentHashOf({ b: [1, { d: 2, c: null }], a: 'x' })).toBe(
      contentHashOf({ a: 'x', b: [1, { c: null, d: 2 }] }),
    );
    // sha-256 of '{"a":1}'
    expect(contentHashOf({ a: 1 })).toBe('015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
  });
});
