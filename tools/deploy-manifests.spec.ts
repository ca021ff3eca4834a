import { loadConfig } from '@keel/config';
import { decisioningConfigSchema } from '@keel/decisioning-feature';
import { governanceConfigSchema } from '@keel/governance-feature';
import { ingestionConfigSchema } from '@keel/ingestion-feature';
import { retrievalConfigSchema } from '@keel/retrieval-feature';
import { workflowConfigSchema } from '@keel/workflow-runtime';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

// The Kubernetes manifests are checked the way a cluster would take them (each document against the
// Kubernetes schema of its apiVersion and kind, through kubernetes-models' validators) and against what
// the services really read: a setting a manifest passes must be one the service's config schema knows,
// and the whole environment must load, so a renamed variable cannot silently fall back to its default.
const manifestsDir = join(__dirname, '..', 'deploy', 'k8s');

interface Manifest {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly [field: string]: unknown;
}

const manifests: Manifest[] = readdirSync(manifestsDir)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(manifestsDir, file), 'utf8')).map(
      (document) => ({ file, ...(document.toJS() as Omit<Manifest, 'file'>) }) as Manifest,
    ),
  );

/** `apps/v1` + `Deployment` → kubernetes-models' `apps/v1/Deployment` module (core group: `v1/…`). */
type KubernetesModel = new (data: unknown) => { validate(): void };
function modelOf({ apiVersion, kind }: Manifest): KubernetesModel {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is chosen by the document
  const exported = require(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, KubernetesModel>;
  const Model = exported[kind];
  if (!Model) throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return Model;
}

const serviceSchemas: Record<string, z.ZodType> = {
  ingestion: ingestionConfigSchema,
  retrieval: retrievalConfigSchema,
  decisioning: decisioningConfigSchema,
  workflow: workflowConfigSchema,
  governance: governanceConfigSchema,
};
/** Read by the image's start command (`Dockerfile`), not by the service. */
const imageSettings = new Set(['SERVICE']);

/** Every environment variable name a zod config schema reads, through refinements and pipes. */
function settingNames(schema: z.ZodType): Set<string> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: object };
  return new Set(Object.keys(json.properties ?? {}));
}

interface Container {
  readonly name: string;
  readonly env?: ReadonlyArray<{ name: string; value?: string; valueFrom?: unknown }>;
  readonly envFrom?: ReadonlyArray<{ configMapRef?: { name: string } }>;
  readonly ports?: ReadonlyArray<{ name: string; containerPort: number }>;
  readonly livenessProbe?: { httpGet?: { path: string } };
  readonly readinessProbe?: { httpGet?: { path: string } };
  readonly startupProbe?: { httpGet?: { path: string } };
}

function containerOf(deployment: Manifest): Container {
  const spec = deployment['spec'] as { template: { spec: { containers: Container[] } } };
  const [container] = spec.template.spec.containers;
  if (!container) throw new Error(`${deployment.metadata.name} has no container`);
  return container;
}

function configMapData(name: string): Record<string, string> {
  const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === name);
  if (!configMap) throw new Error(`no ConfigMap ${name} in deploy/k8s`);
  return configMap['data'] as Record<string, string>;
}

/** The environment a container gets: ConfigMaps, then its own entries; secrets as placeholders of the right shape. */
function environmentOf(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, configMapData(source.configMapRef.name));
  }
  for (const entry of container.env ?? []) {
    env[entry.name] =
      entry.value ??
      (entry.name === 'DATABASE_URL'
        ? 'postgres://keel:secret@postgres:5432/keel'
        : 'a-secret-of-forty-eight-characters-from-the-cluster-0123');
  }
  return env;
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  it.each(manifests.map((m) => [`${m.file}: ${m.kind} ${m.metadata.name}`, m] as const))(
    '%s is valid against the Kubernetes schema',
    (_, manifest) => {
      const { file: _file, ...document } = manifest;
      const Model = modelOf(manifest);

      expect(() => new Model(document).validate()).not.toThrow();
    },
  );

  const deployments = manifests.filter((m) => m.kind === 'Deployment');

  it('deploys every service', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(Object.keys(serviceSchemas).sort());
  });

  it.each(deployments.map((d) => [d.metadata.name, d] as const))(
    '%s passes only settings its config schema reads, and they load',
    (service, deployment) => {
      const schema = serviceSchemas[service];
      if (!schema) throw new Error(`no config schema for ${service}`);
      const env = environmentOf(containerOf(deployment));
      const known = settingNames(schema);

      expect(Object.keys(env).filter((name) => !known.has(name) && !imageSettings.has(name))).toEqual([]);
      expect(() => loadConfig(schema, env)).not.toThrow();
    },
  );

  it.each(deployments.map((d) => [d.metadata.name, d] as const))(
    '%s probes the health endpoints on the port it listens on',
    (_, deployment) => {
      const container = containerOf(deployment);
      const port = Number(environmentOf(container)['PORT']);

      expect(container.ports).toEqual([{ name: 'http', containerPort: port }]);
      expect(container.startupProbe?.httpGet?.path).toBe('/health/live');
      expect(container.livenessProbe?.httpGet?.path).toBe('/health/live');
      expect(container.readinessProbe?.httpGet?.path).toBe('/health/ready');
    },
  );

  it('autoscales only deployments that exist', () => {
    const targets = manifests
      .filter((m) => m.kind === 'HorizontalPodAutoscaler')
      .map((m) => (m['spec'] as { scaleTargetRef: { name: string } }).scaleTargetRef.name);

    expect(targets.length).toBeGreaterThan(0);
    expect(targets.filter((name) => !deployments.some((d) => d.metadata.name === name))).toEqual([]);
  });
});
