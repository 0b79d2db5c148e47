export type * from './model/result';
export { checkReports } from './validate/check-reports';
export { checkDashboards } from './validate/check-dashboards';
