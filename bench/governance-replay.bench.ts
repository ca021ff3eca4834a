// Replay gate: how many recorded decisions per second the gate reruns under a candidate release on one core
// (Node's one thread), with decisioning's own replay (recorded model exchange, lookups and clock; the offline
// planner, no model called) and the gate's summary — the evaluation behind POST /v1/releases/{id}/replay.
// The records are decisioning's agent's real output, decoded from JSON text first as they come out of the
// audit log's jsonb (that decode is timed apart). Target: ≥ 20,000 recorded decisions/s per core.
// Run: npm run bench -- governance   (BENCH_REPLAY_DECISIONS sets how many; default 20,000)
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { type DecisionRecord } from '@keel/contracts';
import { currentArtifacts } from '@keel/decisioning-domain';
import { summariseReplay } from '@keel/governance-domain';
import {
  type CandidateArtifacts,
  replayRecorded,
} from '../libs/governance/feature/src/quality/decision-replayer';
import {
  decide,
  lenientGuardrails,
  orderCreated,
  orderWithoutAddress,
  strictGuardrails,
  withGuardrails,
} from '../libs/governance/feature/src/quality/testing/recorded-decisions';

const count = Number(process.env.BENCH_REPLAY_DECISIONS ?? 20_000);
const rounds = 3;
const model = 'offline-planner@1';

async function recorded(): Promise<string[]> {
  const texts: string[] = [];
  for (let index = 0; index < count; index += 1) {
    // Mostly complete orders over a spread of amounts (some above the large-amount bar), a few without address.
    const trigger =
      index % 10 === 9
        ? orderWithoutAddress(index, 200, 'bench')
        : orderCreated(index, 50 + ((index * 37) % 1500), 'bench');
    texts.push(JSON.stringify(await decide(trigger, currentArtifacts)));
  }
  return texts;
}

async function main(): Promise<void> {
  console.log(`recording ${count} decisions with decisioning's agent (offline planner)…`);
  const texts = await recorded();
  const decodeStarted = performance.now();
  const records = texts.map((text) => JSON.parse(text) as DecisionRecord);
  const decodeSeconds = (performance.now() - decodeStarted) / 1000;
  const candidates: [string, CandidateArtifacts][] = [
    ['production itself (guardrails v1)', { artifacts: currentArtifacts, model }],
    ['lenient (large amounts from 1,200)', { artifacts: withGuardrails(lenientGuardrails()), model }],
    ['strict (no workflow for new orders)', { artifacts: withGuardrails(strictGuardrails()), model }],
  ];
  const rows: Record<string, string | number>[] = [];
  for (const [label, candidate] of candidates) {
    const rates: number[] = [];
    const cpuRates: number[] = [];
    let agreement: number | null = null;
    let changed = 0;
    for (let round = 0; round < rounds; round += 1) {
      const inputs = records.map((record) => ({ record }));
      const started = performance.now();
      const cpu = process.cpuUsage();
      const summary = summariseReplay(await replayRecorded(inputs, candidate));
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      rates.push(count / seconds);
      // CPU time of the whole process (GC threads included): the rate per core however busy the machine is.
      cpuRates.push(count / ((used.user + used.system) / 1e6));
      agreement = summary.agreement;
      changed = summary.changed;
      if (summary.diverged > 0) throw new Error(`${summary.diverged} decisions diverged under ${label}`);
    }
    rates.sort((left, right) => left - right);
    cpuRates.sort((left, right) => left - right);
    rows.push({
      candidate: label,
      decisions: count,
      'median decisions/s': Math.round(rates[Math.floor(rounds / 2)] ?? 0),
      'best decisions/s': Math.round(rates.at(-1) ?? 0),
      'median per CPU-second': Math.round(cpuRates[Math.floor(rounds / 2)] ?? 0),
      agreement: agreement === null ? '—' : `${(agreement * 100).toFixed(1)}%`,
      changed,
    });
  }
  console.table(rows);
  console.log(
    `decoding ${count} records from JSON text: ${Math.round(count / decodeSeconds)} records/s (apart from the replay)`,
  );
  console.log(
    `load average ${os
      .loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')} on ${os.cpus().length} cores`,
  );
  console.log('target: ≥ 20,000 recorded decisions/s per core (one Node thread is one core)');
}

void main();
