/** What a JSON API answered: the status, and the body parsed when it is JSON (its text otherwise). */
export interface JsonAnswer<Body> {
  readonly status: number;
  readonly body: Body;
}

export interface JsonRequest {
  /** The whole `Authorization` value (`Bearer …`, as `testTokens.bearer` gives it); omitted: no header. */
  readonly authorization?: string | undefined;
  /** Sent as JSON; omitted: no body. */
  readonly body?: unknown;
}

/**
 * Calls a service's HTTP API the way a client of it would, without throwing on an error status: specs
 * assert on the status and on the problem body a refusal carries.
 */
export async function callJson<Body = unknown>(
  method: string,
  url: string,
  { authorization, body }: JsonRequest = {},
): Promise<JsonAnswer<Body>> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(authorization === undefined ? {} : { authorization }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('application/json');
  return { status: response.status, body: (json && text ? JSON.parse(text) : text) as Body };
}
