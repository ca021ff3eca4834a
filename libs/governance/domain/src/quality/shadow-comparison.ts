import { type ActionTaken, sameAction } from './replay-gate';

/** A decision record as the shadow comparison reads it. */
export interface ComparableDecision {
  readonly decisionId: string;
  readonly caseId: string;
  /** What the decision answered: the triggering event(s), and the workflow step when it answers one. */
  readonly trigger: string;
  readonly mode: 'production' | 'shadow';
  /** A shadow decision that names production's decision on its trigger (`shadow.productionDecisionId`). */
  readonly counterpart?: string;
  /** The release it ran under, where the record names one. */
  readonly release?: string;
  /** The agent and guardrail policy versions it ran under, e.g. `support-agent@2+guardrails@3`. */
  readonly version: string;
  readonly action: ActionTaken;
}

export interface ShadowCase {
  readonly caseId: string;
  readonly trigger: string;
  readonly version: string;
  readonly production: ActionTaken;
  readonly shadow: ActionTaken;
  readonly agrees: boolean;
}

export interface ShadowVersionAgreement {
  readonly version: string;
  /** Shadow decisions with a production decision on the same trigger. */
  readonly compared: number;
  readonly agreed: number;
  readonly agreement: number | null;
  /** Shadow decisions with no production decision (yet) to compare with. */
  readonly unmatched: number;
  /** The shadow releases the version's decisions name, if any. */
  readonly releases: readonly string[];
}

export interface ShadowComparison {
  readonly versions: readonly ShadowVersionAgreement[];
  /** The first `caseLimit` compared cases, disagreements first. */
  readonly cases: readonly ShadowCase[];
}

/**
 * Pairs each shadow decision with production's decision — the one it names, else the one on the same trigger —
 * and counts agreement per shadow version. A trigger decided twice in one mode (a redelivery) counts once:
 * the first record of each wins.
 */
export function compareShadow(records: readonly ComparableDecision[], caseLimit = 100): ShadowComparison {
  const production = new Map<string, ComparableDecision>();
  const productionById = new Map<string, ComparableDecision>();
  const shadows = new Map<string, ComparableDecision>();
  for (const record of records) {
    if (record.mode === 'production' && !productionById.has(record.decisionId)) {
      productionById.set(record.decisionId, record);
    }
    const byKey = record.mode === 'production' ? production : shadows;
    const key = record.mode === 'production' ? record.trigger : `${record.version}|${record.trigger}`;
    if (!byKey.has(key)) byKey.set(key, record);
  }
  const perVersion = new Map<
    string,
    { compared: number; agreed: number; unmatched: number; releases: Set<string> }
  >();
  const cases: ShadowCase[] = [];
  for (const shadow of shadows.values()) {
    const tally = perVersion.get(shadow.version) ?? {
      compared: 0,
      agreed: 0,
      unmatched: 0,
      releases: new Set<string>(),
    };
    perVersion.set(shadow.version, tally);
    if (shadow.release !== undefined) tally.releases.add(shadow.release);
    const counterpart =
      (shadow.counterpart === undefined ? undefined : productionById.get(shadow.counterpart)) ??
      production.get(shadow.trigger);
    if (counterpart === undefined) {
      tally.unmatched += 1;
      continue;
    }
    const agrees = sameAction(counterpart.action, shadow.action);
    tally.compared += 1;
    if (agrees) tally.agreed += 1;
    cases.push({
      caseId: shadow.caseId,
      trigger: shadow.trigger,
      version: shadow.version,
      production: counterpart.action,
      shadow: shadow.action,
      agrees,
    });
  }
  const versions = [...perVersion.entries()]
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
    .map(([version, { releases, ...tally }]) => ({
      version,
      ...tally,
      releases: [...releases].sort(),
      agreement: tally.compared === 0 ? null : tally.agreed / tally.compared,
    }));
  const ordered = [...cases.filter((item) => !item.agrees), ...cases.filter((item) => item.agrees)];
  return { versions, cases: ordered.slice(0, caseLimit) };
}
