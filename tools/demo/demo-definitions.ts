import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RemediationOutcomeWriter } from '@keel/simulators';
import { workflowTemplates } from '@keel/workflow-engine';

const workflowTaskRole = 'keel_workflow_task';

/**
 * The support-routing template waits one or four hours for its SLA; the demo runs a copy, one version up,
 * whose SLA wait is one or four seconds (the rest is the bundled template unchanged), so a replay reaches the
 * SLA check and the lead's approval within the run.
 */
export function demoSupportRouting(): Record<string, unknown> {
  const bundled = workflowTemplates.find((template) => template.name === 'support-routing');
  if (!bundled) throw new Error('the bundled support-routing template is missing');
  const copy = JSON.parse(JSON.stringify(bundled)) as {
    version: number;
    description?: string;
    steps: Record<string, Record<string, unknown>>;
  };
  copy.version = bundled.version + 1;
  copy.description = `${bundled.description ?? ''} (embedded demo: SLA waits in seconds, not hours)`;
  copy.steps.slaTimer = {
    ...copy.steps.slaTimer,
    description: 'One second for high priority tickets, four otherwise (the demo clock).',
    until: "$fromMillis($millis() + (input.priority = 'high' ? 1000 : 4000))",
  };
  return copy;
}

/** What the bundled templates need beside the services when the target systems are simulated. */
export interface DemoWorkspace {
  /** `WORKFLOW_POSTGRES_STATEMENTS_FILE`: the exception-handling verify statement. */
  readonly statementsFile: string;
  /** `WORKFLOW_DEFINITIONS_DIR`: the support-routing variant whose SLA waits seconds. */
  readonly definitionsDir: string;
  /** Where the simulated remediation desk records outcomes, for that verify statement to read. */
  readonly recordRemediation: RemediationOutcomeWriter;
}

/**
 * Prepares, in `dir` and in the database `query` reaches, what the demo and the five-process tests run the
 * bundled templates with: the remediation outcomes table the exception-handling template's verify step reads
 * (granted to the task role the workflow's migrations create, made here first so the grant can be given),
 * the statement file naming that read, and the demo's support-routing variant.
 */
export async function prepareDemoWorkspace(
  query: (text: string, params?: unknown[]) => Promise<unknown>,
  dir: string,
): Promise<DemoWorkspace> {
  await query(
    `CREATE TABLE public.remediations (exception_id text NOT NULL, remediation_id text PRIMARY KEY, resolved boolean NOT NULL)`,
  );
  await query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${workflowTaskRole}') THEN
        CREATE ROLE ${workflowTaskRole} NOLOGIN;
      END IF;
    END $$`);
  await query(`GRANT SELECT ON public.remediations TO ${workflowTaskRole}`);
  const statementsFile = join(dir, 'statements.yaml');
  writeFileSync(
    statementsFile,
    [
      'exception.remediation_status:',
      '  templates: [exception-handling]',
      '  sql: >-',
      '    SELECT resolved FROM public.remediations WHERE exception_id = $1 AND remediation_id = $2::text',
      '',
    ].join('\n'),
  );
  const definitionsDir = join(dir, 'definitions');
  mkdirSync(definitionsDir);
  writeFileSync(
    join(definitionsDir, 'support-routing.demo.json'),
    JSON.stringify(demoSupportRouting(), null, 2),
  );
  return {
    statementsFile,
    definitionsDir,
    recordRemediation: async ({ exceptionId, remediationId, resolved }) => {
      await query(
        `INSERT INTO public.remediations (exception_id, remediation_id, resolved) VALUES ($1, $2, $3)
         ON CONFLICT (remediation_id) DO UPDATE SET resolved = EXCLUDED.resolved`,
        [exceptionId, remediationId, resolved],
      );
    },
  };
}
