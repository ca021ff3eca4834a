import { type DecisionRecord, decisionRecordSchema } from '@keel/contracts';

type ComparedAction = Pick<DecisionRecord, 'action' | 'requiresApproval'>;

/**
 * Whether two decisions on one trigger act alike: the same tool, the same arguments (key order aside) and the
 * same need for a person. Governance's shadow comparison and replay gate count agreement the same way.
 */
export function sameAction(left: ComparedAction, right: ComparedAction): boolean {
  return (
    left.action.tool === right.action.tool &&
    left.requiresApproval === right.requiresApproval &&
    sameJson(left.action.arguments, right.action.arguments)
  );
}

/**
 * A shadow decision as recorded: marked shadow, naming production's decision on the same trigger and whether
 * the two agree. The shadow section is appended last, so a replay that re-applies it rebuilds the same bytes.
 */
export function asShadowOf(shadow: DecisionRecord, production: DecisionRecord): DecisionRecord {
  return withShadowSection(shadow, {
    productionDecisionId: production.decisionId,
    agreesWithProduction: sameAction(shadow, production),
  });
}

export function withShadowSection(
  record: DecisionRecord,
  section: NonNullable<DecisionRecord['shadow']>,
): DecisionRecord {
  const { shadow: _previous, ...rest } = record;
  return decisionRecordSchema.parse({ ...rest, mode: 'shadow', shadow: section });
}

function sameJson(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false;
  if (Array.isArray(left) !== Array.isArray(right)) return false;
  if (Array.isArray(left) && Array.isArray(right)) {
    return left.length === right.length && left.every((item, index) => sameJson(item, right[index]));
  }
  const leftEntries = Object.entries(left).filter(([, value]) => value !== undefined);
  const rightObject = right as Record<string, unknown>;
  const rightKeys = Object.keys(rightObject).filter((key) => rightObject[key] !== undefined);
  return (
    leftEntries.length === rightKeys.length &&
    leftEntries.every(([key, value]) => key in rightObject && sameJson(value, rightObject[key]))
  );
}
