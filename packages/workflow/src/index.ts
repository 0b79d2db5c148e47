export type * from './model/types';
export { APPROVAL_ACTIONS } from './model/types';
export { checkFlows } from './validate/check-flows';
export {
  flowExpressionScope,
  compileFlowExpression,
  compileFlowFilterToSql,
  checkFlowExpression,
  checkFlowFilter,
  flowObject,
  type FlowEvalInput,
  type CompiledFlowExpression,
} from './expressions/flow-expressions';
export * from './time/index';
export { exampleApp as exampleFlowApp, exampleFlow } from './model/example';
export * from './approvals/index';
export * from './assignees/index';
export * from './effects/index';
