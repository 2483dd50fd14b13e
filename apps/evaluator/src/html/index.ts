/** The visual report (`vmr report html`): data collection, Vega-Lite charts rendered to SVG, the page. */
export {
  type HtmlReportOptions,
  type HtmlReportData,
  type RunSummary,
  type CurvePoint,
  type LambdaPoint,
  type LambdaScatter,
  VAL_CURVE_KEYS,
  paretoIndices,
  binSeries,
  lambdaScatters,
  resolveSweep,
  collectHtmlReportData,
} from './collect';
export { renderSvg, addHoverTitles, shortLambdas, lossCurveSpec, valCurveSpec, valOverviewSpec, paretoSpec, extractorSpec, metricLabel } from './charts';
export { renderReportHtml, escapeHtml } from './page';
export { type HtmlReportSource, type HtmlReportResult, buildHtmlReport, writeHtmlReport } from './build';
export { htmlReportCommand } from './command';
