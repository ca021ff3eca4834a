import { type DecisionRecord } from '@keel/contracts';
import {
  type ActionProposal,
  type DecisionArtifacts,
  type DecisionTrigger,
  type LookupCall,
  type LookupResult,
  type ModelExchange,
  type Observation,
  type ProposedCall,
  buildDecisionRecord,
  isLookupTool,
  offlinePlannerVersion,
  planOffline,
  toolsOffered,
} from '@keel/decisioning-domain';
import { decisionIdOf, sha256Hex } from './decision-id';
import { DecisioningAgentError } from './decisioning-agent.error';
import { ModelConversation } from './model-conversation';
import { type CaseHistory, type ChatModel, type KnowledgeSearch, type MonotonicClock } from './ports';

export interface DecisionAgentDeps {
  readonly artifacts: DecisionArtifacts;
  readonly knowledge: KnowledgeSearch;
  readonly history: CaseHistory;
  /** Absent: the offline planner decides every case (and the record says it was the default, not a fallback). */
  readonly model?: ChatModel;
  readonly clock: MonotonicClock;
}

/** Lookups the offline planner may still need after taking over: case history, knowledge, then its action. */
const offlineStepsAfterFallback = 3;

/**
 * Runs one decision: the model (or the offline planner) calls lookup tools until it proposes an action, within
 * the agent policy's bounds on steps, wall time and tokens. Any model failure — an error, a timeout, an open
 * breaker, output that is not one valid call of an offered tool, a budget exhausted — hands the decision to the
 * offline planner, which continues from what was looked up so far. Guardrails then judge the action when the
 * record is built. Every model call and clock reading is recorded, so the record replays byte-identically.
 */
export class DecisionAgent {
  constructor(private readonly deps: DecisionAgentDeps) {}

  /** `decisionId` defaults to the trigger's (`decisionIdOf`); a shadow decision passes its own. */
  async decide(trigger: DecisionTrigger, options: { decisionId?: string } = {}): Promise<DecisionRecord> {
    const { artifacts, model } = this.deps;
    const { limits } = artifacts.agentPolicy;
    const started = this.deps.clock();
    const clockReadings: number[] = [];
    const elapsed = () => {
      const reading = this.deps.clock() - started;
      clockReadings.push(reading);
      return reading;
    };
    const offered = toolsOffered(artifacts.guardrailPolicy, trigger);
    const observations: Observation[] = [];
    const exchange: ModelExchange[] = [];
    const usage = { promptTokens: 0, completionTokens: 0 };
    const conversation = model && new ModelConversation(model.model, artifacts.prompt, trigger, offered);
    let fallbackReason: string | undefined;
    let proposal: ActionProposal | undefined;

    const modelStep = async (): Promise<ProposedCall | undefined> => {
      if (!model || !conversation || fallbackReason !== undefined) return undefined;
      const spentMs = elapsed();
      const spentTokens = usage.promptTokens + usage.completionTokens;
      if (spentMs >= limits.maxWallMs) {
        fallbackReason = `wall-time budget of ${limits.maxWallMs} ms spent`;
        return undefined;
      }
      if (spentTokens >= limits.maxTokens) {
        fallbackReason = `token budget of ${limits.maxTokens} spent`;
        return undefined;
      }
      const request = conversation.request(Math.min(1024, limits.maxTokens - spentTokens));
      const requestText = JSON.stringify(request);
      const signal = AbortSignal.timeout(Math.min(limits.modelTimeoutMs, limits.maxWallMs - spentMs));
      let response: unknown;
      try {
        response = await model.complete(request, signal);
      } catch (error) {
        const reason = error instanceof DecisioningAgentError ? error.message : String(error);
        exchange.push(exchanged(requestText, recordedFailure(reason)));
        if (error instanceof DecisioningAgentError && error.code === 'replay-diverged') throw error;
        fallbackReason = `model unavailable: ${reason}`;
        return undefined;
      }
      exchange.push(exchanged(requestText, recordedResponse(response)));
      try {
        const turn = conversation.accept(response);
        usage.promptTokens += turn.usage.promptTokens;
        usage.completionTokens += turn.usage.completionTokens;
        return turn.call;
      } catch (error) {
        if (!(error instanceof DecisioningAgentError)) throw error;
        fallbackReason = `model output invalid: ${error.message}`;
        return undefined;
      }
    };

    const maxSteps = limits.maxSteps + (model ? offlineStepsAfterFallback : 0);
    for (let step = 0; step < maxSteps && proposal === undefined; step += 1) {
      if (model && fallbackReason === undefined && step >= limits.maxSteps) {
        fallbackReason = `step budget of ${limits.maxSteps} spent without an action`;
      }
      const call = (await modelStep()) ?? planOffline(trigger, observations, offered);
      if (isLookupTool(call.tool)) {
        const lookup = call as LookupCall;
        const result = await this.lookUp(trigger, lookup);
        observations.push({ call: lookup, result });
        conversation?.observe(lookup, result);
      } else {
        proposal = call as ActionProposal;
      }
    }
    if (proposal === undefined) {
      throw new Error(`no action after ${maxSteps} steps: the offline planner must always reach one`);
    }
    elapsed();
    return buildDecisionRecord(
      {
        decisionId: options.decisionId ?? decisionIdOf(trigger),
        trigger,
        proposal,
        planner: model && fallbackReason === undefined ? 'model' : 'offline',
        ...(fallbackReason === undefined ? {} : { fallbackReason }),
        observations,
        exchange,
        clockReadings,
        usage,
        model: model?.model ?? offlinePlannerVersion,
      },
      artifacts,
    );
  }

  private async lookUp(trigger: DecisionTrigger, call: LookupCall): Promise<LookupResult> {
    const { agentPolicy } = this.deps.artifacts;
    switch (call.tool) {
      case 'get_case_history':
        return {
          kind: 'case-history',
          events: await this.deps.history.eventsOf(trigger, agentPolicy.caseHistory.limit),
        };
      case 'search_knowledge':
        try {
          const chunks = await this.deps.knowledge.search({
            tenant: trigger.tenant,
            query: call.arguments.query,
            limit: agentPolicy.knowledge.limit,
          });
          return { kind: 'knowledge', chunks };
        } catch (error) {
          // ADR 0007: without retrieval the agent decides without knowledge, and the record shows it.
          if (error instanceof DecisioningAgentError && error.code === 'knowledge-unavailable') {
            return { kind: 'unavailable', reason: error.message };
          }
          throw error;
        }
    }
  }
}

/** How a model call's outcome is stored: a response and a failure can never be mistaken for each other. */
export function recordedResponse(response: unknown): string {
  return JSON.stringify({ response });
}

export function recordedFailure(reason: string): string {
  return JSON.stringify({ failure: reason });
}

function exchanged(request: string, response: string): ModelExchange {
  return { requestSha256: sha256Hex(request), request, responseSha256: sha256Hex(response), response };
}
