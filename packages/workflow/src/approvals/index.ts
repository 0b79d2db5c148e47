export {
  allowedActions,
  applyApprovalAction,
  startApproval,
  type ApprovalActionInput,
  type ApprovalDecisionRecord,
  type ApprovalOutcome,
  type ApprovalState,
  type ApprovalStep,
} from './approval';
