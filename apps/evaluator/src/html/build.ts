/** `vmr report html` as a function: read the store, render the page, write it atomically. */
import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError, writeFileAtomic } from '@vmr/core';
import { withReportSource, type ReportSourceOptions } from '@vmr/tracking';
import { collectHtmlReportData, type HtmlReportData, type HtmlReportOptions } from './collect';
import { renderReportHtml } from './page';

/** Where the page reads: an open tracker, a local store (`--store`) or a tracking server (`--tracking-uri http://…`). */
export type HtmlReportSource = ReportSourceOptions;

export interface HtmlReportResult {
  out: string;
  bytes: number;
  charts: number;
  tables: number;
  runs: number;
  /** Chart compiler warnings (vega-lite / vega). */
  warnings: string[];
  data: HtmlReportData;
}

/** Build the report's HTML (a string) from any store. */
export async function buildHtmlReport(options: HtmlReportOptions, src: HtmlReportSource = {}): Promise<{ html: string; data: HtmlReportData; warnings: string[] }> {
  return withReportSource(src, async (t) => {
    const data = await collectHtmlReportData(t, options);
    const warnings: string[] = [];
    return { html: await renderReportHtml(data, warnings), data, warnings };
  });
}

/** Build the report and write it to `out` atomically (temp file + rename). */
export async function writeHtmlReport(out: string, options: HtmlReportOptions, src: HtmlReportSource = {}): Promise<HtmlReportResult> {
  if (!out) throw new InvalidArgumentError('--out: give the HTML file to write');
  const target = path.resolve(out);
  if (fs.existsSync(target) && fs.statSync(target).isDirectory()) throw new InvalidArgumentError(`--out ${out} is a directory; give a file name such as ${path.join(out, 'report.html')}`);
  const { html, data, warnings } = await buildHtmlReport(options, src);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  writeFileAtomic(target, html);
  return {
    out: target,
    bytes: Buffer.byteLength(html),
    charts: (html.match(/<figure data-chart=/g) ?? []).length,
    tables: data.tables.length,
    runs: data.runs.length,
    warnings,
    data,
  };
}
