import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Where scripts/models/minilm.sh resolved the model (Maven Central, cached under .models/); resolves it first if needed. */
export function resolveMiniLmModel(repositoryRoot: string): string {
  return execFileSync('bash', [join(repositoryRoot, 'scripts/models/minilm.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}
