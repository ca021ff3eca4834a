/** What a decision did, as far as the replay gate compares it: the action and whether a person must approve. */
export interface ActionTaken {
  readonly tool: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly requiresApproval: boolean;
}

/** What a person made of a production decision afterwards, where the audit log knows it. */
export type DecisionOutcome = 'confirmed' | 'overridden';

interface RecordedCase {
  readonly decisionId: string;
  readonly caseId: string;
  readonly production: ActionTaken;
  readonly outcome?: DecisionOutcome;
}

/**
 * One recorded production decision rerun under the candidate: `replayed` with the candidate's action, or
 * `diverged` when the candidate needs something the record does not hold (a model answer to another request,
 * a different lookup) or the record cannot be replayed at all.
 */
export type ReplayCase =
  | (RecordedCase & { readonly kind: 'replayed'; readonly candidate: ActionTaken })
  | (RecordedCase & { readonly kind: 'diverged'; readonly reason: string });

/** A decision the candidate would take differently. */
export interface ReplayChange {
  readonly decisionId: string;
  readonly caseId: string;
  readonly from: ActionTaken;
  readonly to: ActionTaken;
  readonly outcome?: DecisionOutcome;
}

export interface ReplayOutcomes {
  /** Replayed decisions whose outcome is known. */
  readonly known: number;
  /** The candidate changes a decision a person overrode: it might have got it right. */
  readonly changedWhereOverridden: number;
  /** The candidate changes a decision a person confirmed: likely a regression. */
  readonly changedWhereConfirmed: number;
  readonly keptWhereOverridden: number;
  readonly keptWhereConfirmed: number;
}

export interface ReplaySummary {
  /** Recorded production decisions considered. */
  readonly recorded: number;
  readonly replayed: number;
  readonly diverged: number;
  readonly agreed: number;
  readonly changed: number;
  /**
   * `agreed / recorded`: a diverged decision counts as not agreeing, since nobody knows what the candidate
   * would do without calling the model. Undefined (null) with nothing recorded.
   */
  readonly agreement: number | null;
  /** How many changes go from one tool to another, e.g. `start_workflow→escalate`, or `…+approval`. */
  readonly transitions: Readonly<Record<string, number>>;
  /** The first `changeLimit` changes, in the order replayed. */
  readonly changes: readonly ReplayChange[];
  /** Why decisions diverged, with how many each. */
  readonly divergences: Readonly<Record<string, number>>;
  readonly outcomes: ReplayOutcomes;
}

/** Whether two actions are the same: same tool, same arguments (as JSON, key order aside), same need for approval. */
export function sameAction(left: ActionTaken, right: ActionTaken): boolean {
  return (
    left.tool === right.tool &&
    left.requiresApproval === right.requiresApproval &&
    sameJson(left.arguments, right.arguments)
  );
}

/**
 * Equality of JSON values as canonical JSON would see it (key order aside, `undefined` members absent),
 * walked without building the two texts: the gate compares every replayed decision.
 */
function sameJson(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false;
  if (Array.isArray(left) || Array.isArray(right)) {
    if (!Array.isArray(left) || !Array.isArray(right) || left.length !== right.length) return false;
    for (let index = 0; index < left.length; index += 1) {
      if (!sameJson(left[index] ?? null, right[index] ?? null)) return false;
    }
    return true;
  }
  const a = left as Record<string, unknown>;
  const b = right as Record<string, unknown>;
  let members = 0;
  for (const key in a) {
    if (a[key] === undefined) continue;
    members += 1;
    if (!Object.hasOwn(b, key) || !sameJson(a[key], b[key])) return false;
  }
  for (const key in b) if (b[key] !== undefined) members -= 1;
  return members === 0;
}

/** Folds replayed cases into the gate's figures. Pure and order-independent except for the listed changes. */
export function summariseReplay(cases: readonly ReplayCase[], changeLimit = 100): ReplaySummary {
  let replayed = 0;
  let agreed = 0;
  const transitions: Record<string, number> = {};
  const divergences: Record<string, number> = {};
  const changes: ReplayChange[] = [];
  const outcomes = {
    known: 0,
    changedWhereOverridden: 0,
    changedWhereConfirmed: 0,
    keptWhereOverridden: 0,
    keptWhereConfirmed: 0,
  };
  for (const item of cases) {
    if (item.kind === 'diverged') {
      divergences[item.reason] = (divergences[item.reason] ?? 0) + 1;
      continue;
    }
    replayed += 1;
    const kept = sameAction(item.production, item.candidate);
    if (kept) agreed += 1;
    else {
      const key = `${describe(item.production)}→${describe(item.candidate)}`;
      transitions[key] = (transitions[key] ?? 0) + 1;
      if (changes.length < changeLimit) {
        changes.push({
          decisionId: item.decisionId,
          caseId: item.caseId,
          from: item.production,
          to: item.candidate,
          ...(item.outcome === undefined ? {} : { outcome: item.outcome }),
        });
      }
    }
    if (item.outcome !== undefined) {
      outcomes.known += 1;
      if (item.outcome === 'overridden') {
        if (kept) outcomes.keptWhereOverridden += 1;
        else outcomes.changedWhereOverridden += 1;
      } else if (kept) outcomes.keptWhereConfirmed += 1;
      else outcomes.changedWhereConfirmed += 1;
    }
  }
  return {
    recorded: cases.length,
    replayed,
    diverged: cases.length - replayed,
    agreed,
    changed: replayed - agreed,
    agreement: cases.length === 0 ? null : agreed / cases.length,
    transitions,
    changes,
    divergences,
    outcomes,
  };
}

/** The bar a candidate must clear: the release's own, or the service's defaults. */
export interface ReplayGatePolicy {
  readonly minAgreement: number;
  readonly maxChangedDecisions?: number;
  /** Fewer recorded decisions than this prove nothing either way: the gate blocks (an admin may override). */
  readonly minRecorded: number;
}

export type ReplayGateVerdict =
  | { readonly passed: true; readonly reasons: readonly [] }
  | { readonly passed: false; readonly reasons: readonly string[] };

/** Whether a replay clears the bar; every reason it does not is named. */
export function judgeReplay(summary: ReplaySummary, policy: ReplayGatePolicy): ReplayGateVerdict {
  const reasons: string[] = [];
  if (summary.recorded < policy.minRecorded) {
    reasons.push(
      `${summary.recorded} recorded production decisions replayed; at least ${policy.minRecorded} are needed`,
    );
  }
  if (summary.agreement !== null && summary.agreement < policy.minAgreement) {
    reasons.push(
      `agreement ${percent(summary.agreement)} is below the release's minimum ${percent(policy.minAgreement)}` +
        (summary.diverged > 0 ? ` (${summary.diverged} diverged from the record)` : ''),
    );
  }
  if (policy.maxChangedDecisions !== undefined && summary.changed > policy.maxChangedDecisions) {
    reasons.push(
      `${summary.changed} decisions would change; the release allows at most ${policy.maxChangedDecisions}`,
    );
  }
  return reasons.length === 0 ? { passed: true, reasons: [] } : { passed: false, reasons };
}

function describe(action: ActionTaken): string {
  return action.requiresApproval ? `${action.tool}+approval` : action.tool;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
