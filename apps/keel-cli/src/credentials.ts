import { existsSync, readFileSync } from 'node:fs';
import { AccessTokenSigner, type Role } from '@keel/access';
import type { CliConfig } from './cli.config';

/** How `keel send` authenticates: a token as given, or an API key exchanged at governance. */
export interface Credentials {
  readonly token?: string;
  readonly apiKey?: string;
  readonly governanceUrl: string;
}

interface MintedToken {
  readonly access_token: string;
  readonly expires_in: number;
}

/**
 * The `Authorization` header source for the ingestion client, or undefined without credentials. An API key
 * is exchanged at governance (`POST /v1/tokens`) and the token reused until 80 % of its life has passed.
 */
export function authorizationOf(
  credentials: Credentials,
  now: () => number = Date.now,
): (() => Promise<string>) | undefined {
  const { token, apiKey } = credentials;
  if (token !== undefined) return () => Promise.resolve(`Bearer ${token}`);
  if (apiKey === undefined) return undefined;
  let held: { token: string; renewAt: number } | undefined;
  return async () => {
    if (held === undefined || now() >= held.renewAt) {
      const response = await fetch(new URL('/v1/tokens', credentials.governanceUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apiKey }),
      });
      if (!response.ok) {
        throw new Error(`governance refused the API key (HTTP ${response.status}: ${await response.text()})`);
      }
      const minted = (await response.json()) as MintedToken;
      held = { token: minted.access_token, renewAt: now() + minted.expires_in * 800 };
    }
    return `Bearer ${held.token}`;
  };
}

/**
 * `keel token`: a token signed with the deployment's shared key (ACCESS_SHARED_KEY, or the local stack's
 * `tmp/stack/secrets.env`), for a person or script working against a stack they hold the key of.
 */
export function mintLocalToken(
  config: CliConfig,
  request: { tenant: string; roles: Role[]; subject: string; ttlSeconds: number },
): Promise<string> {
  const sharedKey = config.ACCESS_SHARED_KEY ?? sharedKeyFrom(config.KEEL_SECRETS_FILE);
  if (sharedKey === undefined) {
    throw new Error(
      `no signing key: set ACCESS_SHARED_KEY or start the local stack (it writes ${config.KEEL_SECRETS_FILE})`,
    );
  }
  return new AccessTokenSigner({ ...config, ACCESS_SHARED_KEY: sharedKey }).sign(request);
}

function sharedKeyFrom(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const separator = line.indexOf('=');
    if (separator > 0 && line.slice(0, separator).trim() === 'ACCESS_SHARED_KEY') {
      return line.slice(separator + 1).trim() || undefined;
    }
  }
  return undefined;
}
