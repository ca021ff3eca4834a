import {
  type ReleaseActor,
  type ReleaseCommand,
  type ReleaseScope,
  emptyReleaseScope,
  productionRelease,
  transitionRelease,
} from './release-lifecycle';
import { refusalOf } from './testing/refusal-of';
import { sampleReleaseContents as sampleContents } from './testing/sample-release';

const alice: ReleaseActor = { actor: 'alice', at: '2026-12-01T10:00:00.000Z' };
const bob: ReleaseActor = { actor: 'bob', at: '2026-12-01T10:05:00.000Z' };

function run(scope: ReleaseScope, steps: [ReleaseCommand, ReleaseActor][]): ReleaseScope {
  return steps.reduce((current, [command, by]) => transitionRelease(current, command, by).scope, scope);
}

function released(id: string, scope = emptyReleaseScope('acme')): ReleaseScope {
  return run(scope, [
    [{ type: 'propose', id, contents: sampleContents }, alice],
    [{ type: 'submit', releaseId: id }, alice],
    [{ type: 'approve', releaseId: id }, bob],
    [{ type: 'promote', releaseId: id, stage: 'shadow' }, bob],
    [{ type: 'promote', releaseId: id, stage: 'production' }, bob],
  ]);
}

describe('transitionRelease', () => {
  it('walks draft → in review → approved → shadow → production, recording who did each step', () => {
    const scope = released('r1');
    const release = scope.releases.r1;
    expect(release?.state).toBe('production');
    expect(release?.approvedBy).toBe('bob');
    expect(release?.history.map((step) => `${step.state}:${step.actor}`)).toEqual([
      'draft:alice',
      'in-review:alice',
      'approved:bob',
      'shadow:bob',
      'production:bob',
    ]);
  });

  it("refuses the author's own approval (four-eyes) and leaves the release in review", () => {
    const scope = run(emptyReleaseScope('acme'), [
      [{ type: 'propose', id: 'r1', contents: sampleContents }, alice],
      [{ type: 'submit', releaseId: 'r1' }, alice],
    ]);
    const refusal = refusalOf(() => transitionRelease(scope, { type: 'approve', releaseId: 'r1' }, alice));
    expect(refusal).toMatchObject({
      code: 'four-eyes',
      httpStatus: 403,
      message: expect.stringMatching(/alice/),
    });
    expect(scope.releases.r1?.state).toBe('in-review');
  });

  it('refuses steps out of order: a draft cannot be approved nor an approved release go straight to production', () => {
    const draft = run(emptyReleaseScope('acme'), [
      [{ type: 'propose', id: 'r1', contents: sampleContents }, alice],
    ]);
    expect(refusalOf(() => transitionRelease(draft, { type: 'approve', releaseId: 'r1' }, bob)).code).toBe(
      'invalid-transition',
    );
    const approved = run(draft, [
      [{ type: 'submit', releaseId: 'r1' }, alice],
      [{ type: 'approve', releaseId: 'r1' }, bob],
    ]);
    const skipped = refusalOf(() =>
      transitionRelease(approved, { type: 'promote', releaseId: 'r1', stage: 'production' }, bob),
    );
    expect(skipped.code).toBe('invalid-transition');
  });

  it('publishes one event per artifact version of the release, each carrying the whole release', () => {
    const approved = run(emptyReleaseScope('acme'), [
      [{ type: 'propose', id: 'r1', contents: sampleContents }, alice],
      [{ type: 'submit', releaseId: 'r1' }, alice],
      [{ type: 'approve', releaseId: 'r1' }, bob],
    ]);
    const { events } = transitionRelease(
      approved,
      { type: 'promote', releaseId: 'r1', stage: 'shadow' },
      bob,
    );
    expect(events.map((event) => `${event.artifactKind}/${event.artifactName}@${event.version}`)).toEqual([
      'agent-policy/support-agent@1',
      'prompt/decide@2',
      'guardrail-policy/guardrails@1',
      'workflow-template/order-routing@3',
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ action: 'promoted', stage: 'shadow', actor: 'bob' });
      expect(event.release).toEqual({ id: 'r1', tenant: 'acme', contents: sampleContents });
    }
  });

  it('rolls back to the previous production release and says so in the events', () => {
    const two = released('r2', released('r1'));
    expect(two.releases.r1?.state).toBe('retired');
    const { scope, events } = transitionRelease(two, { type: 'rollback', reason: 'refund spike' }, bob);
    expect(productionRelease(scope)?.id).toBe('r1');
    expect(scope.releases.r2?.state).toBe('rolled-back');
    expect(scope.releases.r2?.history.at(-1)).toMatchObject({ reason: 'refund spike' });
    expect(new Set(events.map((event) => `${event.release?.id}:${event.action}`))).toEqual(
      new Set(['r2:rolled_back', 'r1:promoted']),
    );
    expect(refusalOf(() => transitionRelease(scope, { type: 'rollback', reason: 'again' }, bob)).code).toBe(
      'nothing-to-roll-back',
    );
  });
});
