import { loadConfig } from '@keel/config';
import { Command, InvalidArgumentError, Option } from 'commander';
import { cliConfigSchema } from './cli.config';
import { sendCommand, sendOptionsOf } from './send.command';

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

const config = loadConfig(cliConfigSchema);
const program = new Command('keel').description('Keel command line: send source events to ingestion');

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
  .action(async (file: string | undefined, raw: Record<string, unknown>) => {
    process.exitCode = await sendCommand(file, sendOptionsOf(raw, config));
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`keel: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
