import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where scripts/models/minilm.sh resolved the model (Maven Central, cached under .models/); resolves it first if needed. */
export function resolveMiniLmModel(repositoryRoot: string): string {
  return resolvedBefore(repositoryRoot) ?? runResolveScript(repositoryRoot);
}

/**
 * The script's own first check, done here: the folder counts as resolved when its `.resolved` copy of the pom
 * matches the pom. Spawning bash from a service that has loaded its modules blocked its boot for seconds on a
 * loaded machine; the script runs only when there is something to resolve.
 */
function resolvedBefore(repositoryRoot: string): string | undefined {
  const folder = join(process.env.KEEL_MODELS_HOME ?? join(repositoryRoot, '.models'), 'all-minilm-l6-v2-q');
  try {
    const pom = readFileSync(join(repositoryRoot, 'scripts/models/pom.xml'));
    return readFileSync(join(folder, '.resolved')).equals(pom) ? folder : undefined;
  } catch {
    return undefined;
  }
}

function runResolveScript(repositoryRoot: string): string {
  return execFileSync('bash', [join(repositoryRoot, 'scripts/models/minilm.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}
