import { workflowEngineErrors, type WorkflowEngineErrorCode } from '@keel/workflow-engine';
import { type WorkflowRuntimeErrorCode, workflowRuntimeErrors } from './workflow-runtime.error';

// Every code, listed once: a code added to a union without an entry here does not compile.
const runtimeCodes = Object.keys({
  'unknown-workflow': true,
  'unknown-version': true,
  'unknown-instance': true,
  'definition-conflict': true,
  'invalid-request': true,
  'not-applicable': true,
} satisfies Record<WorkflowRuntimeErrorCode, true>);
const engineCodes = Object.keys({
  'definition-mismatch': true,
  'not-started': true,
  'invalid-input': true,
} satisfies Record<WorkflowEngineErrorCode, true>);

describe('workflow error catalogs', () => {
  it.each([
    ['runtime', workflowRuntimeErrors, runtimeCodes],
    ['engine', workflowEngineErrors, engineCodes],
  ] as const)(
    'the %s catalog maps every code to an HTTP status and a consumer handling',
    (_, catalog, codes) => {
      expect(Object.keys(catalog.httpStatus).sort()).toEqual([...codes].sort());
      expect(Object.keys(catalog.consumerHandling).sort()).toEqual([...codes].sort());
      for (const status of Object.values(catalog.httpStatus)) {
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(600);
      }
    },
  );

  it('answers a definition mismatch (the service resolved the wrong definition) 5xx, not 400', () => {
    expect(workflowEngineErrors.httpStatus['definition-mismatch']).toBeGreaterThanOrEqual(500);
  });

  it('waits for a version no replica stored yet, and dead-letters what does not exist', () => {
    expect(workflowRuntimeErrors.consumerHandling).toMatchObject({
      'unknown-version': 'wait',
      'unknown-workflow': 'dead-letter',
      'unknown-instance': 'dead-letter',
    });
  });
});
