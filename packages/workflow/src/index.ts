export type * from './model/types';
export { APPROVAL_ACTIONS } from './model/types';
export { checkFlows } from './validate/check-flows';
export * from './time/index';
