import { type Role, roles } from '@keel/access';
import { loadConfig } from '@keel/config';
import { Command, InvalidArgumentError, Option } from 'commander';
import { cliConfigSchema } from './cli.config';
import { mintLocalToken } from './credentials';
import { sendCommand, sendOptionsOf } from './send.command';

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

const config = loadConfig(cliConfigSchema);
const program = new Command('keel').description(
  'Keel command line: send source events to ingestion, mint a token for a stack you hold the key of',
);

program
  .command('send')
  .description('send JSON lines (one source event a line: tenant, system, eventType, schemaVersion, payload)')
  .argument('[file]', 'a .jsonl file; stdin when omitted or -')
  .addOption(
    new Option('--to <target>', 'the HTTP API or the raw Kafka topic')
      .choices(['http', 'kafka'])
      .default('http'),
  )
  .option('--url <url>', `ingestion base URL (KEEL_INGESTION_URL, default ${config.KEEL_INGESTION_URL})`)
  .option('--brokers <list>', 'Kafka brokers for --to kafka (KAFKA_BROKERS)')
  .option('--namespace <ns>', 'topic namespace for --to kafka (KEEL_TOPIC_NAMESPACE)')
  .option('--batch-size <n>', 'events per request or produce call', positiveInteger, 100)
  .option('--json', 'print the summary as JSON')
  .option('--no-progress', 'no progress bar')
  .option('--token <jwt>', 'bearer token of an operator of the events’ tenant (KEEL_TOKEN; see keel token)')
  .option('--api-key <key>', 'governance API key, exchanged for tokens (KEEL_API_KEY)')
  .option(
    '--governance-url <url>',
    `where API keys are exchanged (KEEL_GOVERNANCE_URL, default ${config.KEEL_GOVERNANCE_URL})`,
  )
  .action(async (file: string | undefined, raw: Record<string, unknown>) => {
    process.exitCode = await sendCommand(file, sendOptionsOf(raw, config));
  });

program
  .command('token')
  .description(
    'print a bearer token signed with ACCESS_SHARED_KEY (or the local stack’s tmp/stack/secrets.env)',
  )
  .requiredOption('--tenant <tenant>', 'the one tenant the token acts for')
  .addOption(new Option('--role <role...>', 'roles it holds').choices([...roles]).default(['operator']))
  .option('--subject <sub>', 'who acts (the token’s sub)', 'cli')
  .option('--ttl <seconds>', 'lifetime', positiveInteger, 3_600)
  .action(async (raw: { tenant: string; role: Role[]; subject: string; ttl: number }) => {
    const token = await mintLocalToken(config, {
      tenant: raw.tenant,
      roles: raw.role,
      subject: raw.subject,
      ttlSeconds: raw.ttl,
    });
    process.stdout.write(`${token}\n`);
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`keel: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
