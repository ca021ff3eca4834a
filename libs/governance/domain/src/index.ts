/** Pure governance: the artifact registry, the release lifecycle and the audit chain. No I/O, no clock. */
export { type ContentChange, diffContent } from './artifact-diff';
export {
  type ArtifactKind,
  type ArtifactProblem,
  type ArtifactValidator,
  type ArtifactValidators,
  type ArtifactVersion,
  type NewArtifactVersion,
  type Registration,
  registerVersion,
  zodArtifactValidator,
} from './artifact-registry';
export {
  type AuditEntry,
  type AuditRow,
  AuditChain,
  type ChainBreak,
  type ChainBroken,
  type ChainCheckpoint,
  type ChainHead,
  type ChainVerdict,
  genesisHash,
  type HmacSha256,
  type PreparedEntry,
  portableHmacSha256,
} from './audit-chain';
export { type JsonValue, canonicalJson } from './canonical-json';
export { contentHashOf } from './content-hash';
export { GovernanceError, type GovernanceErrorCode } from './governance.error';
export {
  type Release,
  type ReleaseActor,
  type ReleaseCommand,
  type ReleaseScope,
  type ReleaseState,
  type ReleaseStep,
  type ReleaseTransition,
  emptyReleaseScope,
  productionRelease,
  transitionRelease,
} from './release-lifecycle';
export {
  type Answerer,
  type ApprovalItem,
  type ApprovalKind,
  type ApprovalStatus,
  type InboxAnswer,
  answerApproval,
  casePartiesOf,
  partyFields,
  requestedAgain,
} from './approval-inbox';
export * from './quality';
export {
  type CaseLineage,
  type LineageEntry,
  type LineageStage,
  caseLineage,
  inboxAuditTopic,
} from './case-lineage';
