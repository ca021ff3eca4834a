import { type DecisionRecord } from '@keel/contracts';
import {
  type CaseHistoryEntry,
  type DecisionArtifacts,
  type DecisionTrigger,
  type KnowledgeChunk,
  type Observation,
  artifactRef,
  artifactsInStage,
  offlinePlannerVersion,
  withShadowSection,
} from '@keel/decisioning-domain';
import { isDeepStrictEqual } from 'node:util';
import { DecisionAgent } from './decision-agent';
import { DecisioningAgentError } from './decisioning-agent.error';
import { type CaseHistory, type ChatModel, type ChatRequest, type KnowledgeSearch } from './ports';

/**
 * Re-runs a recorded decision offline: the model, the lookups and the clock answer from the record, so the same
 * code and versions must rebuild the same record byte for byte. A request the record does not hold (the code or
 * an artifact changed) stops the replay with `replay-diverged`.
 */
export async function replayDecision(
  record: DecisionRecord,
  artifacts: DecisionArtifacts,
): Promise<DecisionRecord> {
  const replay = record.replay;
  if (!replay) throw diverged(`decision ${record.decisionId} carries no replay section`);
  const versions = record.versions;
  const expected = [
    artifactRef(artifacts.agentPolicy),
    artifactRef(artifacts.prompt),
    artifactRef(artifacts.guardrailPolicy),
  ];
  if (!isDeepStrictEqual([versions.agentPolicy, versions.prompt, versions.guardrailPolicy], expected)) {
    throw diverged(`decision ${record.decisionId} was made under other artifact versions`);
  }
  // The record ran in its stage (a shadow release decides in shadow mode) under the release it names.
  const { release: _bundled, ...files } = artifactsInStage(artifacts, record.mode);
  const replayed = await replayUnderArtifacts(
    record,
    versions.release === undefined ? files : { ...files, release: versions.release },
  );
  // The comparison with production is an input of a shadow record, recorded like the trigger.
  return record.shadow === undefined ? replayed : withShadowSection(replayed, record.shadow);
}

/**
 * What `artifacts` would have decided on a recorded decision's inputs: the same recorded model exchange,
 * lookups and clock, but any artifact versions (governance's replay gate runs a candidate release this way).
 * Where the candidate asks the model or a lookup something the record does not hold, nobody can know its
 * answer without calling out, so the replay stops with `replay-diverged`.
 */
export async function replayUnderArtifacts(
  record: DecisionRecord,
  artifacts: DecisionArtifacts,
): Promise<DecisionRecord> {
  const replay = record.replay;
  if (!replay) throw diverged(`decision ${record.decisionId} carries no replay section`);
  const versions = record.versions;
  const observations = replay.observations as unknown as Observation[];
  const lookups = new RecordedLookups(observations);
  const readings = [0, ...replay.clockReadings];
  const agent = new DecisionAgent({
    artifacts,
    knowledge: lookups,
    history: lookups,
    ...(versions.model === offlinePlannerVersion
      ? {}
      : { model: new RecordedChatModel(versions.model, replay.exchange) }),
    clock: () => {
      const reading = readings.shift();
      if (reading === undefined) throw diverged('the replay read the clock more often than the decision did');
      return reading;
    },
  });
  return agent.decide(replay.trigger as unknown as DecisionTrigger, { decisionId: record.decisionId });
}

/** The model as recorded: each request must be the recorded one, and gets the recorded outcome. */
export class RecordedChatModel implements ChatModel {
  private next = 0;

  constructor(
    readonly model: string,
    private readonly exchange: NonNullable<DecisionRecord['replay']>['exchange'],
  ) {}

  complete(request: ChatRequest): Promise<unknown> {
    const recorded = this.exchange[this.next++];
    if (recorded === undefined)
      return Promise.reject(diverged('the replay asked the model more often than the decision did'));
    if (JSON.stringify(request) !== recorded.request) {
      return Promise.reject(
        diverged(`model request ${this.next} differs from the recorded one (${recorded.requestSha256})`),
      );
    }
    const outcome = JSON.parse(recorded.response) as { response?: unknown; failure?: string };
    return outcome.failure === undefined
      ? Promise.resolve(outcome.response)
      : Promise.reject(new DecisioningAgentError('model-unavailable', outcome.failure));
  }
}

/** Lookups as recorded, in order; a different call means the decision did not go the same way. */
class RecordedLookups implements KnowledgeSearch, CaseHistory {
  private next = 0;

  constructor(private readonly observations: readonly Observation[]) {}

  search(query: { query: string }): Promise<readonly KnowledgeChunk[]> {
    const result = this.take('search_knowledge', { query: query.query });
    if (result.kind === 'unavailable')
      return Promise.reject(new DecisioningAgentError('knowledge-unavailable', result.reason));
    return Promise.resolve(result.kind === 'knowledge' ? result.chunks : []);
  }

  eventsOf(): Promise<readonly CaseHistoryEntry[]> {
    const result = this.take('get_case_history', {});
    return Promise.resolve(result.kind === 'case-history' ? result.events : []);
  }

  private take(tool: Observation['call']['tool'], args: Record<string, unknown>): Observation['result'] {
    const recorded = this.observations[this.next++];
    if (recorded?.call.tool !== tool || !isDeepStrictEqual(recorded.call.arguments, args)) {
      throw diverged(`lookup ${this.next} (${tool}) differs from the recorded one`);
    }
    return recorded.result;
  }
}

function diverged(message: string): DecisioningAgentError {
  return new DecisioningAgentError('replay-diverged', message);
}
