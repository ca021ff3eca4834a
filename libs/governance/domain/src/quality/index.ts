/** Release quality: the replay gate's figures and verdict, shadow agreement, and drift. Pure. */
export { type ApprovalAnswer, type PositionedDecision, outcomesOf } from './decision-outcomes';
export {
  type DecisionSample,
  type DriftBreach,
  type DriftReport,
  type DriftSignal,
  type DriftThresholds,
  type WindowProfile,
  driftSignals,
  evaluateDrift,
  mixShift,
  profileWindow,
} from './drift';
export { GovernanceQualityError, type GovernanceQualityErrorCode } from './quality.error';
export {
  type ActionTaken,
  type DecisionOutcome,
  type ReplayCase,
  type ReplayChange,
  type ReplayGatePolicy,
  type ReplayGateVerdict,
  type ReplayOutcomes,
  type ReplaySummary,
  judgeReplay,
  sameAction,
  summariseReplay,
} from './replay-gate';
export {
  type ComparableDecision,
  type ShadowCase,
  type ShadowComparison,
  type ShadowVersionAgreement,
  compareShadow,
} from './shadow-comparison';
