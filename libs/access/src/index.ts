/** Who may call Keel's HTTP APIs: bearer tokens (JWT) from an OIDC issuer or governance, roles, tenants. */
export {
  accessConfigProblem,
  accessConfigSchema,
  refineAccessConfig,
  type AccessConfig,
} from './access.config';
export { AccessError, type AccessErrorCode } from './access.error';
export { AccessGuard } from './access.guard';
export { AccessModule } from './access.module';
export { AccessTokenSigner, type AccessTokenRequest } from './access-token.signer';
export { type IssuedApiKey, issueApiKey, parseApiKey, secretMatches } from './api-key';
export { BearerTokenVerifier } from './bearer-token.verifier';
export { CurrentPrincipal } from './current-principal.decorator';
export { type Principal, type Role, hasRole, roles } from './principal';
export { ProtectedApi } from './protected-api.decorator';
export { Roles, rolesMetadataKey } from './roles.decorator';
export { assertTenant } from './tenant';
