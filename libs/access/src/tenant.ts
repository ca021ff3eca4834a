import { AccessError } from './access.error';
import { type Principal } from './principal';

/**
 * Refuses (403 `wrong-tenant`) a request whose body names another tenant than its token: the guard sees the
 * route's `:tenant` and `?tenant=`, a handler calls this for a tenant inside the body.
 */
export function assertTenant(principal: Principal, tenant: string, where = 'the request'): void {
  if (tenant !== principal.tenant) {
    throw new AccessError(
      'wrong-tenant',
      `'${principal.subject}' acts for tenant '${principal.tenant}', but ${where} names another`,
    );
  }
}
