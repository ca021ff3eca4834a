import { type ErrorCatalog, KeelError } from '@keel/errors';

/** Why a request was not let through. */
export type AccessErrorCode =
  /** No `Authorization: Bearer …` header. */
  | 'missing-token'
  /** A token that is malformed, expired, signed by another key, or for another issuer or audience. */
  | 'invalid-token'
  /** A valid token whose roles do not include one the endpoint needs. */
  | 'missing-role'
  /** A valid token for another tenant than the one the request names. */
  | 'wrong-tenant';

const accessErrors = {
  httpStatus: { 'missing-token': 401, 'invalid-token': 401, 'missing-role': 403, 'wrong-tenant': 403 },
  consumerHandling: {
    'missing-token': 'dead-letter',
    'invalid-token': 'dead-letter',
    'missing-role': 'dead-letter',
    'wrong-tenant': 'dead-letter',
  },
} as const satisfies ErrorCatalog<AccessErrorCode>;

export class AccessError extends KeelError<AccessErrorCode> {
  constructor(code: AccessErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, accessErrors, options);
  }
}
