import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import tseslint from 'typescript-eslint';

// Who may import whom. Two axes: scope (which service) and type (which layer).
const infrastructure = ['@nestjs/*', 'typeorm', 'pg', 'kafkajs', '@qdrant/*', 'openai', 'prom-client', 'pino'];

/** Folders of the projects carrying `tag`, read from the same project.json files Nx reads (libs may nest). */
function projectsTagged(tag) {
  const folders = [];
  const visit = (folder, depth) => {
    const manifest = join(folder, 'project.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).tags?.includes(tag)) {
      folders.push(relative(import.meta.dirname, folder));
    }
    if (depth === 0) return;
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.')) {
        visit(join(folder, entry.name), depth - 1);
      }
    }
  };
  for (const top of ['libs', 'apps']) visit(join(import.meta.dirname, top), 3);
  return folders;
}

// Domain logic gets time, randomness and I/O as inputs, so the same inputs give the same output in property
// tests, the simulator and replays (docs/architecture.md, "pure core"). Their tests may read fixtures and time
// themselves.
const purity = 'domain libs are pure: take the time, ids and randomness as inputs, and leave I/O to adapters';
const domainPurity = {
  files: projectsTagged('type:domain').map((folder) => `${folder}/**/*.ts`),
  ignores: ['**/*.spec.ts', '**/*.integration-spec.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: builtinModules.map((name) => ({ name, message: `Node built-in '${name}': ${purity}` })),
        patterns: [{ group: ['node:*'], message: `Node built-ins: ${purity}` }],
      },
    ],
    'no-restricted-syntax': [
      'error',
      {
        selector: "MemberExpression[object.name='Date'][property.name='now']",
        message: `Date.now() reads the clock: ${purity}`,
      },
      {
        selector: "NewExpression[callee.name='Date'][arguments.length=0]",
        message: `new Date() reads the clock: ${purity}`,
      },
      { selector: "CallExpression[callee.name='Date']", message: `Date() reads the clock: ${purity}` },
      {
        selector: "MemberExpression[object.name='performance']",
        message: `performance reads the clock: ${purity}`,
      },
      {
        selector: "MemberExpression[object.name='Math'][property.name='random']",
        message: `Math.random() is random: ${purity}`,
      },
      {
        selector: "MemberExpression[object.name='crypto'][property.name=/^(randomUUID|getRandomValues)$/]",
        message: `crypto.randomUUID() and crypto.getRandomValues() are random: ${purity}`,
      },
      {
        selector: "CallExpression[callee.name='require']",
        message: `require() loads modules the import rules cannot see: ${purity}`,
      },
      {
        selector: 'ImportExpression',
        message: `import() loads modules the import rules cannot see: ${purity}`,
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'tmp', '.kafka', '.nx', 'coverage', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': 'off',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:workflow', onlyDependOnLibsWithTags: ['scope:workflow', 'scope:shared'] },
            { sourceTag: 'scope:ingestion', onlyDependOnLibsWithTags: ['scope:ingestion', 'scope:shared'] },
            { sourceTag: 'scope:retrieval', onlyDependOnLibsWithTags: ['scope:retrieval', 'scope:shared'] },
            { sourceTag: 'scope:decisioning', onlyDependOnLibsWithTags: ['scope:decisioning', 'scope:shared'] },
            // Governance validates the artifacts it governs with their owners' own loaders (workflow templates by
            // the engine, policies by decisioning, event schemas by ingestion): the domain libs only, by review —
            // and decisioning-agent's offline replay (`replayUnderArtifacts`), which the replay gate reruns
            // recorded decisions with (ADR 0016), so there is one replay and no copy.
            {
              sourceTag: 'scope:governance',
              onlyDependOnLibsWithTags: ['scope:governance', 'scope:shared', 'scope:workflow', 'scope:decisioning', 'scope:ingestion'],
            },
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['type:feature', 'type:domain', 'type:contracts', 'type:platform', 'type:util'],
            },
            {
              sourceTag: 'type:feature',
              onlyDependOnLibsWithTags: ['type:feature', 'type:domain', 'type:contracts', 'type:platform', 'type:util'],
            },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:util'],
              bannedExternalImports: infrastructure,
            },
            { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:util'], bannedExternalImports: infrastructure },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'], bannedExternalImports: infrastructure },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:platform', 'type:util', 'type:testing'],
            },
          ],
        },
      ],
    },
  },
  {
    // Tests may reach into anything of their own project and use the testing lib.
    files: ['**/*.spec.ts', '**/*.integration-spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@nx/enforce-module-boundaries': 'off',
    },
  },
  domainPurity,
);
