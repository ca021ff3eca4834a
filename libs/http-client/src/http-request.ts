import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * One keep-alive pool per protocol, shared by every call of the process: services call a few peers over and
 * over. `node:http` rather than `fetch` on the hot paths (workflow tasks, decisioning's context queries):
 * measured on this 2-core box, a small JSON call costs the caller ~100 µs of CPU over a kept-alive
 * connection against ~420 µs through `fetch` (its WHATWG streams, Request/Response objects and abort signal),
 * and headers and body go in one write (ADR 0021, ADR 0022).
 */
const agents: Readonly<Record<string, HttpAgent>> = {
  'http:': new HttpAgent({ keepAlive: true }),
  'https:': new HttpsAgent({ keepAlive: true }),
};

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/** Whether `status` redirects: `sendHttp` then hands back its `location` without following it. */
export function isRedirect(status: number): boolean {
  return redirectStatuses.has(status);
}

/**
 * Node refused to send the request as given (a header value with a line break, a header name that is no
 * token): nothing was sent, and the same request would be refused again.
 */
export class HttpRequestInvalid extends Error {}

/** The deadline passed while the call was still going: the connection was destroyed. */
export class HttpDeadlinePassed extends Error {
  constructor(url: URL) {
    super(`${url.origin}${url.pathname} did not answer in time`);
  }
}

export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string | number>>;
  /** Sent as given, its `content-length` set here. */
  readonly body?: string;
  /** Epoch ms at which the call is given up and its connection destroyed. */
  readonly deadline: number;
  /** A body larger than this is not read on: `text` is then undefined. */
  readonly maxResponseBytes: number;
}

export interface HttpAnswer {
  readonly status: number;
  /** The `location` of a redirect, which is not followed here (the caller decides where it may go). */
  readonly location: string | undefined;
  /** The body; undefined once it grew past the cap (the rest is not read); empty for a redirect. */
  readonly text: string | undefined;
}

/**
 * One HTTP request over the shared keep-alive pool. Rejects with `HttpDeadlinePassed` at the deadline
 * (whatever the destroyed connection reports after), or with the connection's error.
 */
export function sendHttp({
  method,
  url,
  headers = {},
  body,
  deadline,
  maxResponseBytes,
}: HttpRequest): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) return reject(new HttpDeadlinePassed(url));
    let expired = false;
    let settled = false;
    const settle = (answer: HttpAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(
        expired ? new HttpDeadlinePassed(url) : error instanceof Error ? error : new Error(String(error)),
      );
    };
    let request: ReturnType<typeof httpRequest>;
    try {
      request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        url,
        {
          method,
          agent: agents[url.protocol],
          headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          const status = response.statusCode ?? 0;
          const location = response.headers.location;
          const declared = Number(response.headers['content-length'] ?? Number.NaN);
          if (isRedirect(status) || declared > maxResponseBytes) {
            response.destroy();
            return settle({ status, location, text: isRedirect(status) ? '' : undefined });
          }
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.byteLength;
            if (size > maxResponseBytes) {
              response.destroy();
              settle({ status, location, text: undefined });
            } else chunks.push(chunk);
          });
          response.on('end', () =>
            settle({ status, location, text: Buffer.concat(chunks).toString('utf8') }),
          );
          response.on('error', fail);
          response.on('close', () => fail(new Error('connection closed before the response ended')));
        },
      );
    } catch (error) {
      return reject(new HttpRequestInvalid(error instanceof Error ? error.message : String(error)));
    }
    const timer = setTimeout(() => {
      expired = true;
      request.destroy(new HttpDeadlinePassed(url));
    }, remainingMs);
    request.on('error', fail);
    request.end(body);
  });
}
