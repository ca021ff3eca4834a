import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';

/** What the scripted model answers to one request. */
export interface ScriptedReply {
  readonly status?: number;
  /** Sent as JSON; `rawBody` wins when both are set. */
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
  /** Wait this long before answering (timeouts). */
  readonly delayMs?: number;
}

/** Answers the n-th chat completion request (zero-based) given its parsed body. */
export type Script = (request: { readonly index: number; readonly body: ChatBody }) => ScriptedReply;

export interface ChatBody {
  readonly model: string;
  readonly messages: { role: string; content: string | null; tool_call_id?: string }[];
  readonly tools: { type: 'function'; function: { name: string; strict: boolean; parameters: unknown } }[];
  readonly [key: string]: unknown;
}

/**
 * An OpenAI-compatible HTTP server for tests: `POST /v1/chat/completions` answers from a script, so the real
 * `openai` client is exercised over HTTP, `baseURL` included, the way Ollama or vLLM are reached.
 */
export class ScriptedOpenAiServer {
  readonly requests: ChatBody[] = [];
  private script: Script = () => ({ status: 500, body: { error: { message: 'no script' } } });

  private readonly server: Server = createServer((request, response) => void this.handle(request, response));

  private constructor() {}

  static async start(): Promise<ScriptedOpenAiServer> {
    const instance = new ScriptedOpenAiServer();
    await new Promise<void>((resolve) => instance.server.listen(0, '127.0.0.1', resolve));
    return instance;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Replaces the script and forgets earlier requests. */
  play(script: Script): void {
    this.script = script;
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      response.writeHead(404).end();
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatBody;
    const index = this.requests.push(body) - 1;
    const reply = this.script({ index, body });
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (response.destroyed) return;
    response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    response.end(reply.rawBody ?? JSON.stringify(reply.body ?? {}));
  }
}

let completionCount = 0;

/** A completion whose message calls one tool; `args` is sent as given when it is a string (malformed JSON). */
export function toolCall(
  name: string,
  args: Record<string, unknown> | string,
  usage = { prompt: 100, completion: 20 },
): ScriptedReply {
  completionCount += 1;
  return {
    body: {
      id: `chatcmpl-${completionCount}`,
      object: 'chat.completion',
      created: 1_764_000_000,
      model: 'scripted-model',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: `call-${completionCount}`,
                type: 'function',
                function: { name, arguments: typeof args === 'string' ? args : JSON.stringify(args) },
              },
            ],
          },
        },
      ],
      usage: {
        prompt_tokens: usage.prompt,
        completion_tokens: usage.completion,
        total_tokens: usage.prompt + usage.completion,
      },
    },
  };
}

/** A completion that answers in text instead of calling a tool. */
export function textReply(content: string): ScriptedReply {
  return {
    body: {
      id: 'chatcmpl-text',
      object: 'chat.completion',
      created: 1_764_000_000,
      model: 'scripted-model',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
    },
  };
}

/** Plays `replies` in order; requests beyond them get the last one. */
export function inOrder(...replies: ScriptedReply[]): Script {
  return ({ index }) => replies[Math.min(index, replies.length - 1)];
}
