import {
  artifactsInStage,
  asShadowOf,
  currentArtifacts,
  loadGuardrailPolicy,
  recordBytes,
  sameAction,
} from '@keel/decisioning-domain';
import { orderCreated } from '../../domain/src/testing/triggers.fixture';
import { DecisionAgent } from './decision-agent';
import { decisionIdOf, shadowDecisionIdOf } from './decision-id';
import { replayDecision } from './decision-replay';
import { type KnowledgeSearch } from './ports';

const noKnowledge: KnowledgeSearch = { search: () => Promise.resolve([]) };
const history = { eventsOf: () => Promise.resolve([]) };

/** Guardrails v2: orders may not start a workflow by themselves. */
const strictGuardrails = loadGuardrailPolicy({
  ...currentArtifacts.guardrailPolicy,
  version: 2,
  tools: {
    ...currentArtifacts.guardrailPolicy.tools,
    byEventType: {
      ...currentArtifacts.guardrailPolicy.tools.byEventType,
      'order.created': ['get_case_history', 'escalate'],
    },
  },
});

function agentUnder(artifacts: typeof currentArtifacts): DecisionAgent {
  let tick = 0;
  return new DecisionAgent({ artifacts, knowledge: noKnowledge, history, clock: () => (tick += 1.5) });
}

describe('shadow decisions', () => {
  const production = { ...currentArtifacts, release: 'r1' };
  const candidate = { ...currentArtifacts, guardrailPolicy: strictGuardrails, release: 'r2' };

  it("are made in shadow mode under their own id, name production's decision and say whether they agree", async () => {
    const decided = await agentUnder(production).decide(orderCreated);
    const shadowed = await agentUnder(artifactsInStage(candidate, 'shadow')).decide(orderCreated, {
      decisionId: shadowDecisionIdOf(orderCreated, 'r2'),
    });
    const shadow = asShadowOf(shadowed, decided);
    expect(decided).toMatchObject({ decisionId: decisionIdOf(orderCreated), mode: 'production' });
    expect(decided.versions.release).toBe('r1');
    expect(shadow).toMatchObject({
      decisionId: shadowDecisionIdOf(orderCreated, 'r2'),
      mode: 'shadow',
      versions: { release: 'r2', guardrailPolicy: { version: 2 } },
      action: { tool: 'escalate' },
      shadow: { productionDecisionId: decided.decisionId, agreesWithProduction: false },
    });
    expect(shadow.decisionId).not.toBe(decided.decisionId);
    // The same policies in shadow agree with production.
    const twin = await agentUnder(artifactsInStage(production, 'shadow')).decide(orderCreated, {
      decisionId: shadowDecisionIdOf(orderCreated, 'r1'),
    });
    expect(asShadowOf(twin, decided).shadow?.agreesWithProduction).toBe(true);
  });

  it('replay byte for byte under the release they name, the comparison included', async () => {
    const decided = await agentUnder(production).decide(orderCreated);
    const shadow = asShadowOf(
      await agentUnder(artifactsInStage(candidate, 'shadow')).decide(orderCreated, {
        decisionId: shadowDecisionIdOf(orderCreated, 'r2'),
      }),
      decided,
    );
    // Replayed from the release's files as registered (their mode, without a release label).
    const { release: _r2, ...files } = candidate;
    expect(recordBytes(await replayDecision(shadow, files))).toBe(recordBytes(shadow));
    const { release: _r1, ...productionFiles } = production;
    expect(recordBytes(await replayDecision(decided, productionFiles))).toBe(recordBytes(decided));
  });

  it('agree when tool, arguments (key order aside) and approval match', () => {
    const base = { action: { tool: 'route' as const, arguments: { queue: 'priority', n: { a: 1, b: 2 } } } };
    expect(
      sameAction(
        { ...base, requiresApproval: false },
        {
          action: { tool: 'route', arguments: { n: { b: 2, a: 1 }, queue: 'priority' } },
          requiresApproval: false,
        },
      ),
    ).toBe(true);
    expect(sameAction({ ...base, requiresApproval: false }, { ...base, requiresApproval: true })).toBe(false);
    expect(
      sameAction(
        { ...base, requiresApproval: false },
        {
          action: { tool: 'route', arguments: { queue: 'standard', n: { a: 1, b: 2 } } },
          requiresApproval: false,
        },
      ),
    ).toBe(false);
  });
});
