import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { loadDefinition, type WorkflowDefinition } from '@keel/workflow-engine';

/** Loads every definition file of a folder; a bad file stops the service naming the file and its problems. */
export function loadDefinitionFiles(directory: string): WorkflowDefinition[] {
  return readdirSync(directory)
    .filter((file) => ['.yaml', '.yml', '.json'].includes(extname(file)))
    .sort()
    .map((file) => {
      try {
        return loadDefinition(readFileSync(join(directory, file), 'utf8'));
      } catch (error) {
        throw new Error(
          `${join(directory, file)}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    });
}
