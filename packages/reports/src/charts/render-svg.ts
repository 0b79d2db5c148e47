import type { EChartsOption } from 'echarts';
import { ProblemError, type Locale } from '@tessera/metadata';

/**
 * A chart option drawn as an SVG document on the server (ECharts' server-side rendering,
 * no DOM): snapshots for mail, PDFs and previews. ECharts is loaded on first use, so a
 * process that never draws does not pay for it; the option builder stays pure.
 */
export async function renderChartSvg(option: EChartsOption, options: { width?: number; height?: number; locale?: Locale } = {}): Promise<string> {
  if (!option.series) {
    throw new ProblemError('unprocessable', 'A table has no picture', [{ field: 'chart/type', code: 'not_drawable', message: 'only charts with series can be drawn as SVG' }]);
  }
  const echarts = await import('echarts');
  const chart = echarts.init(null, null, {
    renderer: 'svg',
    ssr: true,
    width: options.width ?? 800,
    height: options.height ?? 400,
    locale: options.locale === 'zh' ? 'ZH' : 'EN',
  });
  try {
    chart.setOption({ ...option, animation: false });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
