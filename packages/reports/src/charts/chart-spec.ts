/**
 * How a widget draws a report result. Pure data, stored in dashboards (app metadata), so
 * it has a JSON Schema kept in step with the type (see test/charts-spec.test.ts).
 */
export const CHART_TYPES = ['bar', 'stackedBar', 'line', 'area', 'pie', 'funnel', 'gauge', 'heatmap', 'table'] as const;

export type ChartType = (typeof CHART_TYPES)[number];

export interface ChartSpec {
  type: ChartType;
  /** the dimension column along the category axis (pie slices, funnel stages); default: the first dimension */
  category?: string;
  /**
   * the dimension column whose values become separate series (stacked bars, one line per
   * owner); default: the pivot's column dimension, else every dimension after the category
   */
  series?: string;
  /** the measure columns plotted; default: every measure (pie, funnel, gauge, heat map: the first) */
  measures?: string[];
  /** bars grow sideways (bar, stackedBar) */
  horizontal?: boolean;
}

const columnKey = { type: 'string', minLength: 1, maxLength: 200 } as const;

export const chartSpecSchema = {
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: {
    type: { enum: CHART_TYPES },
    category: columnKey,
    series: columnKey,
    measures: { type: 'array', minItems: 1, maxItems: 20, items: columnKey },
    horizontal: { type: 'boolean' },
  },
} as const;
