import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Reads every `*.json` source definition of a folder (parsed, not yet validated: the catalog does that). */
export function loadSourceFiles(directory: string): unknown[] {
  return readdirSync(directory)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const path = join(directory, name);
      try {
        return JSON.parse(readFileSync(path, 'utf8')) as unknown;
      } catch (error) {
        throw new Error(`${path}: not JSON: ${String(error)}`);
      }
    });
}
