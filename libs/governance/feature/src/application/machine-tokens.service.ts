import { type Principal, type Role, hasRole, issueApiKey, parseApiKey, secretMatches } from '@keel/access';
import { GovernanceError } from '@keel/governance-domain';
import { SignJWT } from 'jose';
import { type ApiKeys } from '../persistence/api-keys.repository';
import { type Transactions } from '../persistence/transactions';

export interface MachineTokensOptions {
  readonly keys: ApiKeys;
  readonly transactions: Transactions;
  /** The shared HS256 key the access lib verifies governance's tokens with. */
  readonly signingKey: string;
  readonly issuer: string;
  readonly audience: string;
  readonly tokenTtlSeconds: number;
  readonly now: () => Date;
}

/** A minted bearer token, as OAuth 2 client-credentials answers name it. */
export interface MachineToken {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
}

/**
 * API keys for machine clients and the short-lived bearer tokens minted from them: the key is shown once and
 * only its secret's hash is kept; a token carries the key's tenant and roles, so services verify it like any
 * other (libs/access).
 */
export class MachineTokensService {
  private readonly signingKey: Uint8Array;

  constructor(private readonly options: MachineTokensOptions) {
    this.signingKey = new TextEncoder().encode(options.signingKey);
  }

  /** A new key for a client of the admin's tenant; an admin cannot hand out roles they could not use. */
  async createKey(
    by: Principal,
    client: string,
    roles: readonly Role[],
  ): Promise<{ id: string; key: string }> {
    const beyond = roles.filter((role) => !hasRole(by, role));
    if (beyond.length > 0)
      throw new GovernanceError('invalid-request', `roles beyond the caller's: ${beyond.join(', ')}`);
    const issued = issueApiKey();
    await this.options.transactions.run((manager) =>
      this.options.keys.insert(manager, {
        id: issued.id,
        tenant: by.tenant,
        client,
        roles,
        secretHash: issued.secretHash,
        createdBy: by.subject,
        createdAt: this.options.now().toISOString(),
        revoked: false,
      }),
    );
    return { id: issued.id, key: issued.key };
  }

  /** @throws GovernanceError `invalid-api-key` for a key that is malformed, unknown, revoked or wrong. */
  async mint(apiKey: string): Promise<MachineToken> {
    const parsed = parseApiKey(apiKey);
    const stored =
      parsed === undefined
        ? undefined
        : await this.options.transactions.run((manager) => this.options.keys.find(manager, parsed.id));
    if (
      parsed === undefined ||
      stored === undefined ||
      stored.revoked ||
      !secretMatches(parsed.secret, stored.secretHash)
    ) {
      throw new GovernanceError('invalid-api-key', 'the API key is not valid');
    }
    const now = Math.floor(this.options.now().getTime() / 1000);
    const token = await new SignJWT({ tenant: stored.tenant, roles: stored.roles, client: stored.client })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(`apikey:${stored.id}`)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + this.options.tokenTtlSeconds)
      .sign(this.signingKey);
    return { access_token: token, token_type: 'Bearer', expires_in: this.options.tokenTtlSeconds };
  }
}
