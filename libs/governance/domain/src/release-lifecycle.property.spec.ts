import fc from 'fast-check';
import { GovernanceError } from './governance.error';
import {
  type ReleaseCommand,
  type ReleaseScope,
  emptyReleaseScope,
  productionRelease,
  transitionRelease,
} from './release-lifecycle';
import { refusalOf } from './testing/refusal-of';
import { sampleReleaseContents as sampleContents } from './testing/sample-release';

const ids = ['r1', 'r2', 'r3', 'r4'] as const;
const actors = ['alice', 'bob', 'carol'] as const;

const command: fc.Arbitrary<ReleaseCommand> = fc.oneof(
  fc.constantFrom(...ids).map((id): ReleaseCommand => ({ type: 'propose', id, contents: sampleContents })),
  fc.constantFrom(...ids).map((releaseId): ReleaseCommand => ({ type: 'submit', releaseId })),
  fc.constantFrom(...ids).map((releaseId): ReleaseCommand => ({ type: 'approve', releaseId })),
  fc.constantFrom(...ids).map((releaseId): ReleaseCommand => ({ type: 'reject', releaseId, reason: 'no' })),
  fc
    .tuple(fc.constantFrom(...ids), fc.constantFrom('shadow' as const, 'production' as const))
    .map(([releaseId, stage]): ReleaseCommand => ({ type: 'promote', releaseId, stage })),
  fc.constant<ReleaseCommand>({ type: 'rollback', reason: 'drift' }),
);
// Random commands alone rarely carry a release all the way to production; `advance` takes the natural next
// step for a release, so long runs reach production several times and roll back through them.
const advance = fc.constantFrom(...ids).map((releaseId) => ({ type: 'advance' as const, releaseId }));
type Step = ReleaseCommand | { readonly type: 'advance'; readonly releaseId: string };
const step = fc.tuple(
  fc.oneof({ arbitrary: advance, weight: 3 }, { arbitrary: command, weight: 1 }),
  fc.constantFrom(...actors),
);

function concrete(scope: ReleaseScope, next: Step): ReleaseCommand {
  if (next.type !== 'advance') return next;
  const { releaseId } = next;
  switch (scope.releases[releaseId]?.state) {
    case undefined:
      return { type: 'propose', id: releaseId, contents: sampleContents };
    case 'draft':
      return { type: 'submit', releaseId };
    case 'in-review':
      return { type: 'approve', releaseId };
    case 'approved':
      return { type: 'promote', releaseId, stage: 'shadow' };
    case 'shadow':
      return { type: 'promote', releaseId, stage: 'production' };
    case 'rejected':
    case 'production':
    case 'retired':
    case 'rolled-back':
      return { type: 'rollback', reason: 'drift' };
  }
}

describe('release lifecycle properties', () => {
  it('keeps four-eyes, at most one production release, and rollback restores exactly the previous one', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 80, size: 'max' }), (steps) => {
        let scope: ReleaseScope = emptyReleaseScope('acme');
        // The model: the order releases reached production, rollbacks popping the newest.
        const line: string[] = [];
        for (const [index, [planned, actor]] of steps.entries()) {
          const next = concrete(scope, planned);
          let after: ReleaseScope;
          try {
            after = transitionRelease(scope, next, { actor, at: `t${index}` }).scope;
          } catch (error) {
            if (!(error instanceof GovernanceError)) throw error;
            continue;
          }
          if (next.type === 'promote' && next.stage === 'production') line.push(next.releaseId);
          if (next.type === 'rollback') {
            const before = line.at(-2);
            line.pop();
            expect(productionRelease(after)?.id).toBe(before);
          }
          scope = after;

          const inProduction = Object.values(scope.releases).filter(
            (release) => release.state === 'production',
          );
          expect(inProduction.map((release) => release.id)).toEqual(line.length === 0 ? [] : [line.at(-1)]);
          expect(
            Object.values(scope.releases).filter((release) => release.state === 'shadow').length,
          ).toBeLessThanOrEqual(1);
          for (const release of Object.values(scope.releases)) {
            const reviewed = release.history.some((entry) => entry.state === 'approved');
            if (reviewed) expect(release.approvedBy).not.toBe(release.author);
            // The first approved step is the review; a later one is a shadow displaced back to approved.
            const review = release.history.find(
              (entry) => entry.state === 'approved' || entry.state === 'rejected',
            );
            if (review !== undefined) expect(review.actor).not.toBe(release.author);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses every approval by the author, whatever came before', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30, size: 'max' }), fc.constantFrom(...ids), (steps, id) => {
        let scope: ReleaseScope = emptyReleaseScope('acme');
        for (const [index, [planned, actor]] of steps.entries()) {
          try {
            scope = transitionRelease(scope, concrete(scope, planned), { actor, at: `t${index}` }).scope;
          } catch (error) {
            if (!(error instanceof GovernanceError)) throw error;
          }
        }
        const release = scope.releases[id];
        fc.pre(release !== undefined);
        if (release === undefined) return;
        const refusal = refusalOf(() =>
          transitionRelease(scope, { type: 'approve', releaseId: id }, { actor: release.author, at: 'end' }),
        );
        expect(refusal.code).toBe('four-eyes');
      }),
      { numRuns: 300 },
    );
  });
});
