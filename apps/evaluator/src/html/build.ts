/** `vmr report html` as a function: read the store, render the page, write it atomically. */
import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError, UnsupportedError, writeFileAtomic } from '@vmr/core';
import { SqliteTracker, resolveTrackingUri, type Tracker } from '@vmr/tracking';
import { collectHtmlReportData, type HtmlReportData, type HtmlReportOptions } from './collect';
import { renderReportHtml } from './page';

export interface HtmlReportSource {
  /** An open local tracker (queried directly); default: open the store below read-only-ish (no reaping). */
  tracker?: Tracker;
  store?: string;
  trackingUri?: string;
}

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

async function withLocalTracker<R>(src: HtmlReportSource, fn: (t: SqliteTracker) => Promise<R>): Promise<R> {
  if (src.tracker) {
    if (!(src.tracker instanceof SqliteTracker)) throw new UnsupportedError('the HTML report queries the run store directly: give a local store (--store), not a tracking server URI');
    return fn(src.tracker);
  }
  const uri = resolveTrackingUri({ trackingUri: src.trackingUri, store: src.store });
  if (/^https?:\/\//.test(uri)) throw new UnsupportedError(`the HTML report queries the run store directly: ${uri} is a tracking server; run the report where its store file is (--store)`);
  if (!fs.existsSync(uri)) throw new InvalidArgumentError(`run store ${uri} does not exist (--store / $VMR_STORE)`);
  const t = new SqliteTracker(uri, { reapStaleRuns: false, heartbeatIntervalMs: 0 });
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

/** Build the report's HTML (a string) from the run store. */
export async function buildHtmlReport(options: HtmlReportOptions, src: HtmlReportSource = {}): Promise<{ html: string; data: HtmlReportData; warnings: string[] }> {
  return withLocalTracker(src, async (t) => {
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
