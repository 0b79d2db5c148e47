// The pieces of the workflow package the engine plugs in (assignees, approvals, effects),
// imported in one place.
export { resolveAssignees, type AssigneeContext } from '../assignees/index';
export { allowedActions, applyApprovalAction, startApproval, type ApprovalState } from '../approvals/index';
export { defaultTransports, deliverEffect, type EffectRequest, type EffectResult, type EffectTransports } from '../effects/index';
