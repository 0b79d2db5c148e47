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
export { WorkflowEngine, type WorkflowEngineOptions, type WorkerOptions } from './engine/workflow-engine';
export type { InstanceView, TimelineEntry, FlowTaskView, IncidentView } from './engine/views';
export { WorkerCrash } from './engine/errors';
export { JobQueue, type JobKind, type JobSpec, type ClaimedJob } from './queue/job-queue';
export * from './effects/index';
export { flowToBpmnXml, bpmnXmlToFlow, TESSERA_NS, EXPRESSION_LANGUAGE, tesseraModdleDescriptor } from './bpmn/index';
export { flowDefSchema, flowsSectionSchema, FLOW_NODE_TYPES } from './model/schema';
