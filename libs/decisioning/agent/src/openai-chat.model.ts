import { type AgentPolicy } from '@keel/decisioning-domain';
import OpenAI from 'openai';
import CircuitBreaker from 'opossum';
import { DecisioningAgentError } from './decisioning-agent.error';
import { type ChatModel, type ChatRequest } from './ports';

export interface OpenAiChatModelOptions {
  /** Any OpenAI-compatible endpoint, e.g. `https://api.openai.com/v1` or a vLLM/Ollama server's `/v1`. */
  readonly baseURL: string;
  readonly apiKey: string;
  readonly model: string;
  readonly policy: Pick<AgentPolicy, 'limits' | 'breaker'>;
}

/**
 * The chat model on the `openai` SDK. The SDK retries timeouts, 408/409/429 and 5xx with backoff (honouring
 * `retry-after`); a circuit breaker around the whole call stops asking a model that keeps failing, so decisions
 * go to the offline planner at once until a half-open probe succeeds.
 */
export class OpenAiChatModel implements ChatModel {
  readonly model: string;
  private readonly breaker: CircuitBreaker<[ChatRequest, AbortSignal], unknown>;

  constructor(options: OpenAiChatModelOptions) {
    this.model = options.model;
    const client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey,
      maxRetries: options.policy.limits.maxRetries,
      timeout: options.policy.limits.modelTimeoutMs,
    });
    this.breaker = new CircuitBreaker(
      (request: ChatRequest, signal: AbortSignal) =>
        client.chat.completions.create(request as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, {
          signal,
        }),
      {
        // The SDK and the agent's wall-time signal bound each call; the breaker only counts outcomes.
        timeout: false,
        errorThresholdPercentage: options.policy.breaker.errorThresholdPercentage,
        volumeThreshold: options.policy.breaker.volumeThreshold,
        resetTimeout: options.policy.breaker.resetTimeoutMs,
      },
    );
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<unknown> {
    try {
      return await this.breaker.fire(request, signal);
    } catch (error) {
      throw new DecisioningAgentError('model-unavailable', describe(error), { cause: error });
    }
  }

  /** Whether the breaker currently refuses calls. */
  get circuitOpen(): boolean {
    return this.breaker.opened;
  }

  shutdown(): void {
    this.breaker.shutdown();
  }
}

function describe(error: unknown): string {
  // The agent aborts a call that outlasts its time budget (retries included); the SDK times out one attempt.
  if (error instanceof OpenAI.APIConnectionTimeoutError || error instanceof OpenAI.APIUserAbortError) {
    return 'model call timed out';
  }
  if (error instanceof OpenAI.APIConnectionError) return 'model unreachable';
  if (error instanceof OpenAI.APIError) return `model answered HTTP ${String(error.status)}`;
  if (error instanceof Error && (error as { code?: unknown }).code === 'EOPENBREAKER')
    return 'model circuit open';
  return error instanceof Error ? error.message : String(error);
}
