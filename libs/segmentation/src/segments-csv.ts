import { FileFormatError, InvalidArgumentError, parsePyNumberList, splitCsvLine } from '@vmr/core';
import type { ClipSegmentPlan } from './plan';

/** Columns of `segments.csv` — the reference code's `ranks.csv` (DESIGN §2.1). */
export const SEGMENTS_CSV_COLUMNS = ['vid', 'ranks', 'segments', 'top_start', 'top_end', 'bottom_start', 'bottom_end'] as const;
export const SEGMENTS_CSV_HEADER = SEGMENTS_CSV_COLUMNS.join(',');

/** One row of `segments.csv`; every time is in seconds. */
export interface SegmentsCsvRow {
  vid: string;
  /** ranks[i] = rank of segments[i] (1 = most motion). */
  ranks: number[];
  /** [start, end) in seconds, time order. */
  segments: [number, number][];
  topStart: number;
  topEnd: number;
  bottomStart: number;
  bottomEnd: number;
}

/** The CSV row of a planned clip. */
export function planToSegmentsRow(plan: ClipSegmentPlan, vid: string = plan.clipId): SegmentsCsvRow {
  return {
    vid,
    ranks: [...plan.ranks],
    segments: plan.segments.map((s) => [s.start, s.end]),
    topStart: plan.top.start,
    topEnd: plan.top.end,
    bottomStart: plan.bottom.start,
    bottomEnd: plan.bottom.end,
  };
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function num(x: number, what: string): string {
  if (!Number.isFinite(x)) throw new InvalidArgumentError(`segments.csv: ${what} is not a finite number (${x})`);
  return String(x);
}

/**
 * Format a row (no trailing newline). Lists are written as Python would print them,
 * e.g. `"[2, 1, 3]"` and `"[[0, 12], [12, 40], [40, 75]]"`.
 */
export function formatSegmentsCsvRow(row: SegmentsCsvRow): string {
  if (row.vid.length === 0) throw new InvalidArgumentError('segments.csv: empty vid');
  if (row.ranks.length !== row.segments.length) {
    throw new InvalidArgumentError(`segments.csv: ${row.vid} has ${row.ranks.length} ranks but ${row.segments.length} segments`);
  }
  const ranks = `[${row.ranks.map((r) => num(r, `${row.vid} rank`)).join(', ')}]`;
  const segs = `[${row.segments.map(([a, b]) => `[${num(a, `${row.vid} segment start`)}, ${num(b, `${row.vid} segment end`)}]`).join(', ')}]`;
  return [
    csvField(row.vid),
    csvField(ranks),
    csvField(segs),
    num(row.topStart, `${row.vid} top_start`),
    num(row.topEnd, `${row.vid} top_end`),
    num(row.bottomStart, `${row.vid} bottom_start`),
    num(row.bottomEnd, `${row.vid} bottom_end`),
  ].join(',');
}

/** The whole file: header, one line per row, trailing newline. */
export function formatSegmentsCsv(rows: readonly SegmentsCsvRow[]): string {
  return [SEGMENTS_CSV_HEADER, ...rows.map(formatSegmentsCsvRow)].join('\n') + '\n';
}


/** Parse a Python/JSON-style list literal of numbers or of pairs (`()` accepted for tuples). */
function parseList(text: string, where: string, column: string): number[] | number[][] {
  try {
    return parsePyNumberList(text, where);
  } catch {
    throw new FileFormatError(`${where}: column ${column} is not a list literal: ${JSON.stringify(text)}`);
  }
}

function parseNumber(text: string, where: string, column: string): number {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v)) {
    throw new FileFormatError(`${where}: column ${column} is not a number: ${JSON.stringify(text)}`);
  }
  return v;
}

/**
 * Parse one data row. `source` / `line` name the place in errors. `segments` may be a list of
 * [start, end] pairs, or a flat list of ascending segment ends (ruptures style, first start 0).
 */
export function parseSegmentsCsvRow(line: string, source = 'segments.csv', lineNumber?: number): SegmentsCsvRow {
  const where = lineNumber === undefined ? source : `${source}:${lineNumber}`;
  const f = splitCsvLine(line.replace(/\r$/, ''), where);
  if (f.length !== SEGMENTS_CSV_COLUMNS.length) {
    throw new FileFormatError(`${where}: expected ${SEGMENTS_CSV_COLUMNS.length} columns (${SEGMENTS_CSV_HEADER}), got ${f.length}`);
  }
  const vid = f[0].trim();
  if (vid === '') throw new FileFormatError(`${where}: empty vid`);
  const ranksRaw = parseList(f[1], where, 'ranks');
  if (!Array.isArray(ranksRaw) || !ranksRaw.every((r) => typeof r === 'number' && Number.isInteger(r))) {
    throw new FileFormatError(`${where}: ranks must be a list of integers, got ${JSON.stringify(f[1])}`);
  }
  const segRaw = parseList(f[2], where, 'segments');
  let segments: [number, number][];
  if (Array.isArray(segRaw) && segRaw.every((s) => typeof s === 'number' && Number.isFinite(s))) {
    let prev = 0;
    segments = (segRaw as number[]).map((e) => {
      const pair: [number, number] = [prev, e];
      prev = e;
      return pair;
    });
  } else if (
    Array.isArray(segRaw) &&
    segRaw.every((s) => Array.isArray(s) && s.length === 2 && s.every((x) => typeof x === 'number' && Number.isFinite(x)))
  ) {
    segments = (segRaw as number[][]).map((s) => [s[0], s[1]]);
  } else {
    throw new FileFormatError(`${where}: segments must be a list of [start, end] pairs or of segment ends, got ${JSON.stringify(f[2])}`);
  }
  segments.forEach(([a, b], i) => {
    if (!(b > a) || (i > 0 && a < segments[i - 1][1])) {
      throw new FileFormatError(`${where}: segment ${i} [${a}, ${b}) is empty or overlaps the previous one`);
    }
  });
  if (ranksRaw.length !== segments.length) {
    throw new FileFormatError(`${where}: ${ranksRaw.length} ranks for ${segments.length} segments`);
  }
  return {
    vid,
    ranks: ranksRaw as number[],
    segments,
    topStart: parseNumber(f[3], where, 'top_start'),
    topEnd: parseNumber(f[4], where, 'top_end'),
    bottomStart: parseNumber(f[5], where, 'bottom_start'),
    bottomEnd: parseNumber(f[6], where, 'bottom_end'),
  };
}

/**
 * Parse a whole `segments.csv` / `ranks.csv` text. The header must name the seven columns (an extra
 * leading unnamed index column, as pandas writes it, is accepted and ignored). Blank lines are skipped.
 */
export function parseSegmentsCsv(text: string, source = 'segments.csv'): SegmentsCsvRow[] {
  const lines = text.split('\n');
  const header = splitCsvLine((lines[0] ?? '').replace(/\r$/, '').replace(/^\uFEFF/, ''), `${source}:1`).map((h) => h.trim());
  let dropFirst = false;
  if (header.length === SEGMENTS_CSV_COLUMNS.length + 1 && /^(|Unnamed: 0|index)$/.test(header[0])) {
    header.shift();
    dropFirst = true;
  }
  if (header.join(',') !== SEGMENTS_CSV_HEADER) {
    throw new FileFormatError(`${source}:1: expected the header "${SEGMENTS_CSV_HEADER}", got "${lines[0] ?? ''}"`);
  }
  const rows: SegmentsCsvRow[] = [];
  const seen = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i].replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (dropFirst) {
      const fields = splitCsvLine(line, `${source}:${i + 1}`);
      line = fields.slice(1).map(csvField).join(',');
    }
    const row = parseSegmentsCsvRow(line, source, i + 1);
    if (seen.has(row.vid)) throw new FileFormatError(`${source}:${i + 1}: vid ${row.vid} appears twice`);
    seen.add(row.vid);
    rows.push(row);
  }
  return rows;
}
