export type * from './model/result';
export { checkReports } from './validate/check-reports';
export { checkDashboards } from './validate/check-dashboards';
export { toEChartsOption, type ChartPoint, type ChartTable, type ChartOptions } from './charts/to-echarts';
export { CHART_TYPES, chartSpecSchema, type ChartSpec, type ChartType } from './charts/chart-spec';
export { formatValue, formatPeriod, formatMoney } from './charts/format';
export { reportToCsv } from './export/csv';
export { reportToXlsx } from './export/xlsx';
