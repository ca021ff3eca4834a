import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a simulated system answers: a status and a JSON body. */
export interface SimulatedResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface SimulatedRequest {
  readonly method: string;
  /** Path segments after the base, decoded (`/reservations/r-1` → `['reservations', 'r-1']`). */
  readonly segments: readonly string[];
  readonly body: Record<string, unknown>;
  readonly headers: IncomingMessage['headers'];
}

const maxBodyBytes = 1_048_576;

/**
 * A simulated target system on a port of its own: JSON in, JSON out, and the `Idempotency-Key` contract the
 * workflow's HTTP connector relies on — a request repeating a key gets the first answer again and has no
 * second effect (a retried reservation reserves once). Unknown paths answer 404, bad JSON 400.
 */
export abstract class SimulatorServer {
  private server: Server | undefined;
  private readonly answered = new Map<string, SimulatedResponse>();
  private readonly inFlight = new Map<string, Promise<SimulatedResponse>>();
  private baseUrl: string | undefined;

  /** The system's name as workflow templates call it (`service` of an HTTP task). */
  abstract readonly name: string;

  protected abstract route(request: SimulatedRequest): SimulatedResponse | Promise<SimulatedResponse>;

  /** Listens on 127.0.0.1 (port 0: any free port) and returns the base URL. */
  async start(port = 0): Promise<string> {
    if (this.baseUrl) return this.baseUrl;
    const server = createServer((request, response) => void this.serve(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  get url(): string {
    if (!this.baseUrl) throw new Error(`simulator ${this.name} is not started`);
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.baseUrl = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let answer: SimulatedResponse;
    try {
      const parsed = await readRequest(request);
      const key = headerValue(request.headers['idempotency-key']);
      answer = key ? await this.once(`${parsed.method} ${key}`, parsed) : await this.route(parsed);
    } catch (error) {
      answer =
        error instanceof BadRequest
          ? { status: 400, body: { error: error.message } }
          : { status: 500, body: { error: error instanceof Error ? error.message : String(error) } };
    }
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer.body));
  }

  // Answers of failed calls (5xx) are not kept: the retry with the same key is a fresh attempt.
  private async once(key: string, request: SimulatedRequest): Promise<SimulatedResponse> {
    const known = this.answered.get(key);
    if (known) return known;
    const running = this.inFlight.get(key);
    if (running) return running;
    const attempt = Promise.resolve(this.route(request));
    this.inFlight.set(key, attempt);
    try {
      const answer = await attempt;
      if (answer.status < 500) this.answered.set(key, answer);
      return answer;
    } finally {
      this.inFlight.delete(key);
    }
  }
}

class BadRequest extends Error {}

async function readRequest(request: IncomingMessage): Promise<SimulatedRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) throw new BadRequest(`body over ${maxBodyBytes} bytes`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown = {};
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      throw new BadRequest('body is not JSON');
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('body must be a JSON object');
  }
  const path = new URL(request.url ?? '/', 'http://simulator').pathname;
  return {
    method: request.method ?? 'GET',
    segments: path.split('/').filter(Boolean).map(decodeURIComponent),
    body: body as Record<string, unknown>,
    headers: request.headers,
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function ok(body: Record<string, unknown>, status = 200): SimulatedResponse {
  return { status, body };
}

export function refused(status: number, error: string): SimulatedResponse {
  return { status, body: { error } };
}

export function notFound(request: SimulatedRequest): SimulatedResponse {
  return refused(404, `no route ${request.method} /${request.segments.join('/')}`);
}

/** A field of a request body that must be a non-empty string; its absence is a 400 naming the field. */
export function requiredString(body: Record<string, unknown>, field: string): string | SimulatedResponse {
  const value = body[field];
  return typeof value === 'string' && value.length > 0 ? value : refused(400, `${field}: expected a string`);
}
