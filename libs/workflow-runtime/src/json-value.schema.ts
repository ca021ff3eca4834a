import type { JsonValue } from '@keel/workflow-engine';
import { z } from 'zod';

/** Validates that a value is plain JSON (what workflow inputs and signals must be). */
export const jsonValueSchema: z.ZodType<JsonValue> = z.json();
