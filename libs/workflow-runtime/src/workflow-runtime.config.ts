import { accessConfigSchema, refineAccessConfig } from '@keel/access';
import { serviceConfigSchema } from '@keel/config';
import { z } from 'zod';

const serviceMap = z
  .string()
  .default('')
  .transform((value, context) => {
    const services: Record<string, string> = {};
    for (const entry of value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      // Only the first `=` separates: a base URL may carry a query string.
      const separator = entry.indexOf('=');
      const name = separator > 0 ? entry.slice(0, separator).trim() : '';
      const url = entry.slice(separator + 1).trim();
      if (!name || !URL.canParse(url)) {
        context.addIssue({ code: 'custom', message: `expected name=url, got '${entry}'` });
        continue;
      }
      services[name] = url;
    }
    return services;
  });

/** The workflow service's settings: the common ones, access, plus its connectors, workers and retention. */
export const workflowConfigSchema = serviceConfigSchema(3004)
  .extend({
    ...accessConfigSchema.shape,
    /** Requests one client may make to the API per window (per replica); more are answered 429. */
    WORKFLOW_RATE_LIMIT: z.coerce.number().int().min(1).default(600),
    WORKFLOW_RATE_WINDOW_MS: z.coerce.number().int().min(100).default(60_000),
    /** Base URLs of the services HTTP tasks call by name, e.g. `inventory=http://inventory:8080,carrier=http://…`. */
    WORKFLOW_HTTP_SERVICES: serviceMap,
    /** A folder of extra definition files (`*.yaml`, `*.yml`, `*.json`) beside the bundled templates. */
    WORKFLOW_DEFINITIONS_DIR: z.string().min(1).optional(),
    /**
     * A JSON or YAML file naming the SQL statements Postgres tasks may run and the templates allowed to run each
     * (`name: { sql, templates: [...] }`); the task's params are `$1…`, its idempotency key
     * `current_setting('keel.idempotency_key')`. Definitions never carry SQL.
     */
    WORKFLOW_POSTGRES_STATEMENTS_FILE: z.string().min(1).optional(),
    // Calls in flight are cheap (they wait on the far side); results are group-committed (ADR 0020), so more
    // in flight means bigger groups, not more transactions. 16 capped a burst at ~250 steps/s on 2 cores; in
    // a 5,000 burst 128 or 256 cost 2.7–3.2 ms of service CPU per instance against 3.0–3.4 at 64 (ADR 0021).
    WORKFLOW_TASK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(128),
    WORKFLOW_TASK_LEASE_GRACE_MS: z.coerce.number().int().min(0).default(5_000),
    WORKFLOW_RETENTION_HOURS: z.coerce
      .number()
      .min(0)
      .default(24 * 7),
    WORKFLOW_PRUNE_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
    /** Tenant of instances started by cron schedules. */
    WORKFLOW_SCHEDULE_TENANT: z.string().min(1).default('system'),
  })
  .superRefine(refineAccessConfig);

export type WorkflowConfig = z.infer<typeof workflowConfigSchema>;
