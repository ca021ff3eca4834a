import { currentArtifacts } from '@keel/decisioning-domain';
import { candidateArtifactsOf, replayRecorded } from './decision-replayer';
import {
  decide,
  lenientGuardrails,
  orderCreated,
  strictGuardrails,
  withGuardrails,
} from './testing/recorded-decisions';

const model = 'offline-planner@1';

describe('replaying recorded decisions under a candidate', () => {
  it("reruns decisioning's replay: production's own artifacts agree, a candidate's changes show", async () => {
    const records = await Promise.all([
      decide(orderCreated(1, 300), currentArtifacts),
      decide(orderCreated(2, 1100), currentArtifacts),
    ]);
    const inputs = records.map((record) => ({ record }));
    const same = await replayRecorded(inputs, { artifacts: currentArtifacts, model });
    expect(same.map((item) => item.kind === 'replayed' && item.candidate)).toEqual(
      records.map((record) => ({
        tool: record.action.tool,
        arguments: record.action.arguments,
        requiresApproval: record.requiresApproval,
      })),
    );
    const lenient = await replayRecorded(inputs, { artifacts: withGuardrails(lenientGuardrails()), model });
    expect(
      lenient.map(
        (item) =>
          item.kind === 'replayed' && [item.production.requiresApproval, item.candidate.requiresApproval],
      ),
    ).toEqual([
      [false, false],
      [true, false],
    ]);
    const strict = await replayRecorded(inputs, { artifacts: withGuardrails(strictGuardrails()), model });
    expect(strict.map((item) => item.kind === 'replayed' && item.candidate.tool)).toEqual([
      'escalate',
      'escalate',
    ]);
  });

  it('counts a decision it cannot judge as diverged, with a reason that names the kind, not the decision', async () => {
    const record = await decide(orderCreated(3, 300), currentArtifacts);
    const { replay: _replay, ...withoutReplay } = record;
    const cases = await replayRecorded(
      [
        { record: withoutReplay },
        { record: { ...record, versions: { ...record.versions, model: 'gpt-4o-mini' } } },
        { record, outcome: 'overridden' },
      ],
      { artifacts: currentArtifacts, model },
    );
    expect(cases.map((item) => (item.kind === 'diverged' ? item.reason : item.kind))).toEqual([
      'recorded without a replay section',
      'recorded under another model than the candidate names',
      'replayed',
    ]);
    expect(cases[2]?.outcome).toBe('overridden');
  });

  it("loads the candidate with decisioning's loaders, refusing content they refuse", () => {
    expect(() =>
      candidateArtifactsOf(
        {
          agentPolicy: currentArtifacts.agentPolicy,
          prompt: currentArtifacts.prompt,
          guardrailPolicy: { name: 'x' },
        },
        model,
      ),
    ).toThrow(/guardrail/i);
  });
});
