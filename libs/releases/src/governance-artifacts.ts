import { type ArtifactKind } from './release';
import { ReleasesError } from './releases.error';

/** Where a service gets a released version's content. */
export interface ArtifactSource {
  content(kind: ArtifactKind, name: string, version: number): Promise<unknown>;
}

export interface GovernanceArtifactsOptions {
  /** Governance's base URL, e.g. `http://governance:3005`. */
  readonly baseUrl: string;
  /** A machine client's API key (viewer role is enough), exchanged at `POST /v1/tokens`. */
  readonly apiKey: string;
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

interface MintedToken {
  readonly access_token: string;
  readonly expires_in: number;
}

/**
 * Governance's registry over HTTP (`GET /v1/artifacts/:kind/:name/versions/:version`) with a bearer token
 * minted from the service's API key and kept until shortly before it expires. Outages and 5xx/429 are
 * `governance-unavailable`, a refused key or token `governance-refused` (both held by the consumer, not
 * dead-lettered), a version governance does not hold `artifact-missing`.
 */
export class GovernanceArtifacts implements ArtifactSource {
  private token: { readonly value: string; readonly renewAt: number } | undefined;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: GovernanceArtifactsOptions) {
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  async content(kind: ArtifactKind, name: string, version: number): Promise<unknown> {
    const path = `/v1/artifacts/${encodeURIComponent(kind)}/${encodeURIComponent(name)}/versions/${version}`;
    const response = await this.get(path);
    if (response.status === 404) {
      throw new ReleasesError('artifact-missing', `governance holds no version ${version} of ${kind} '${name}'`);
    }
    const body = await this.answered(response, `GET ${path}`, 'artifact-missing');
    if (typeof body !== 'object' || body === null || !('content' in body)) {
      throw new ReleasesError('governance-unavailable', `GET ${path}: answer without content`);
    }
    return body.content;
  }

  /**
   * Any other read of governance's API under the same machine token (e.g. `GET /v1/artifacts`, a kind's
   * versions): the JSON answer, with failures classed as `content`'s are.
   */
  async read(path: string): Promise<unknown> {
    return this.answered(await this.get(path), `GET ${path}`, 'artifact-missing');
  }

  /** A GET under the machine token; a 401 (a token revoked or expired early: clock skew) gets one fresh token. */
  private async get(path: string): Promise<Response> {
    const response = await this.call('GET', path, await this.bearer());
    if (response.status !== 401) return response;
    this.token = undefined;
    return this.call('GET', path, await this.bearer());
  }

  private async bearer(): Promise<string> {
    if (this.token !== undefined && this.now() < this.token.renewAt) return this.token.value;
    const response = await this.call('POST', '/v1/tokens', undefined, { apiKey: this.options.apiKey });
    const minted = (await this.answered(response, 'POST /v1/tokens', 'governance-refused')) as Partial<MintedToken>;
    if (typeof minted.access_token !== 'string' || typeof minted.expires_in !== 'number') {
      throw new ReleasesError('governance-unavailable', 'POST /v1/tokens: answer without a token');
    }
    // Renewed at 80% of its life, so a call never carries a token about to expire in flight.
    this.token = { value: minted.access_token, renewAt: this.now() + minted.expires_in * 800 };
    return minted.access_token;
  }

  private async call(method: string, path: string, bearer?: string, body?: unknown): Promise<Response> {
    try {
      return await this.fetch(new URL(path, this.options.baseUrl), {
        method,
        headers: {
          accept: 'application/json',
          ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw new ReleasesError(
        'governance-unavailable',
        `${method} ${path}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  private async answered(
    response: Response,
    what: string,
    clientError: 'artifact-missing' | 'governance-refused',
  ): Promise<unknown> {
    const text = await response.text().catch(() => '');
    if (response.status === 401 || response.status === 403) {
      throw new ReleasesError('governance-refused', `${what}: ${response.status} ${text.slice(0, 300)}`);
    }
    if (response.status === 429 || response.status >= 500) {
      throw new ReleasesError('governance-unavailable', `${what}: ${response.status} ${text.slice(0, 300)}`);
    }
    if (!response.ok) {
      // Any other refusal of a well-formed request will not change on retry.
      throw new ReleasesError(clientError, `${what}: ${response.status} ${text.slice(0, 300)}`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ReleasesError('governance-unavailable', `${what}: answer is not JSON`, { cause: error });
    }
  }
}
