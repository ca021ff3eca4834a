import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..', '..');

/**
 * A compiled service's heap bound, as in its pod: Node sizes the heap from the container's memory limit, about
 * half of the pods' 512 MiB (deploy/k8s), where on a host without a limit it takes a share of the machine's
 * memory (4 GB here) and lets garbage pile up — under the pipeline bench the workflow and governance services
 * then reached ~300 MB resident, against ~180 MB bounded. A bound in NODE_OPTIONS (an experiment) wins.
 */
function heapBound(): string[] {
  return process.env.NODE_OPTIONS?.includes('--max-old-space-size') ? [] : ['--max-old-space-size=256'];
}

/**
 * How to run `entry`: its TypeScript through the dev loader, or — with `KEEL_SERVICES_FROM_DIST=1`, for a bench
 * whose figures (resident size above all: the loader holds ~80 MB) should be the image's — a service's
 * compiled `dist/` twin (`npm run build`), as the image runs it.
 */
function nodeArguments(entry: string): string[] {
  const service = /^apps\/[^/]+\/src\/main\.ts$/.test(relative(root, entry));
  if (process.env.KEEL_SERVICES_FROM_DIST !== '1' || !service)
    return ['-r', join(root, 'tools/register.js'), entry];
  const compiled = join(root, 'dist', relative(root, entry)).replace(/\.ts$/, '.js');
  if (!existsSync(compiled))
    throw new Error(`KEEL_SERVICES_FROM_DIST=1 but ${compiled} is missing: run npm run build`);
  return [...heapBound(), compiled];
}

/** A TypeScript entry point run as a separate Node process, so a test can SIGKILL it like a crash. */
export interface TestProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves when the process prints a line containing `text`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export function startTsProcess(entry: string, env: Record<string, string>): TestProcess {
  const child = spawn(process.execPath, nodeArguments(entry), {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return {
    child,
    output: () => output,
    waitForOutput: (text, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (output.includes(text)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `process did not print '${text}' within ${timeoutMs} ms; output:\n${output.slice(-3000)}`,
            ),
          );
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
