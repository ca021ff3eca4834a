import { GovernanceError } from '../governance.error';

/** The GovernanceError `attempt` throws; fails the test when it throws nothing or something else. */
export function refusalOf(attempt: () => unknown): GovernanceError {
  try {
    attempt();
  } catch (error) {
    if (error instanceof GovernanceError) return error;
    throw error;
  }
  throw new Error('expected a GovernanceError, nothing was thrown');
}
