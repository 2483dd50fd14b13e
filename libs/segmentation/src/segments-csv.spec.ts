import { FileFormatError, InvalidArgumentError, Rng } from '@vmr/core';
import {
  SEGMENTS_CSV_HEADER,
  formatSegmentsCsv,
  formatSegmentsCsvRow,
  parseSegmentsCsv,
  parseSegmentsCsvRow,
  planToSegmentsRow,
  type SegmentsCsvRow,
} from './segments-csv';
import { planClipSegments } from './plan';

const row: SegmentsCsvRow = {
  vid: 'abc_01',
  ranks: [3, 1, 2],
  segments: [[0, 30], [30, 70], [70, 120]],
  topStart: 30,
  topEnd: 70,
  bottomStart: 0,
  bottomEnd: 30,
};

describe('segments.csv rows', () => {
  test('format: the reference ranks.csv columns, Python-style lists', () => {
    expect(SEGMENTS_CSV_HEADER).toBe('vid,ranks,segments,top_start,top_end,bottom_start,bottom_end');
    expect(formatSegmentsCsvRow(row)).toBe('abc_01,"[3, 1, 2]","[[0, 30], [30, 70], [70, 120]]",30,70,0,30');
  });

  test('parse(format(row)) round-trips, including a vid that needs quoting', () => {
    expect(parseSegmentsCsvRow(formatSegmentsCsvRow(row))).toEqual(row);
    const odd = { ...row, vid: 'a,"b"' };
    expect(formatSegmentsCsvRow(odd).startsWith('"a,""b""",')).toBe(true);
    expect(parseSegmentsCsvRow(formatSegmentsCsvRow(odd))).toEqual(odd);
    const text = formatSegmentsCsv([row, { ...row, vid: 'x2' }]);
    expect(text.endsWith('\n')).toBe(true);
    expect(parseSegmentsCsv(text)).toEqual([row, { ...row, vid: 'x2' }]);
  });

  test('accepts tuples, a flat list of ends, CRLF and a pandas index column', () => {
    const text =
      ',vid,ranks,segments,top_start,top_end,bottom_start,bottom_end\r\n' +
      '0,v1,"[2, 1]","[(0, 10), (10, 25)]",10,25,0,10\r\n' +
      '1,v2,"[1, 2]","[12, 40]",0,12,12,40\r\n';
    const rows = parseSegmentsCsv(text, 'ranks.csv');
    expect(rows.map((r) => r.segments)).toEqual([[[0, 10], [10, 25]], [[0, 12], [12, 40]]]);
    expect(rows[1]).toMatchObject({ vid: 'v2', ranks: [1, 2], topStart: 0, topEnd: 12, bottomStart: 12, bottomEnd: 40 });
  });

  test('malformed rows are FileFormatErrors naming file and line', () => {
    const head = SEGMENTS_CSV_HEADER + '\n';
    const cases: [string, RegExp][] = [
      [head + 'v1,"[1]","[[0, 5]]",0,5,0\n', /f\.csv:2: expected 7 columns/],
      [head + 'v1,"[1, 2]","[[0, 5]]",0,5,0,5\n', /f\.csv:2: 2 ranks for 1 segments/],
      [head + 'v1,"[1","[[0, 5]]",0,5,0,5\n', /f\.csv:2: column ranks is not a list literal/],
      [head + 'v1,"[1]","[[5, 5]]",0,5,0,5\n', /f\.csv:2: segment 0 \[5, 5\) is empty/],
      [head + 'v1,"[1]","[[0, 5]]",zero,5,0,5\n', /f\.csv:2: column top_start is not a number/],
      [head + 'v1,"[1]","[[0, 5]]",0,5,0,5\nv1,"[1]","[[0, 5]]",0,5,0,5\n', /f\.csv:3: vid v1 appears twice/],
      ['vid,ranks,segments\n', /f\.csv:1: expected the header/],
      [head + 'v1,"[1]","[[0, 5]]",0,5,0,"5\n', /unterminated quoted field/],
    ];
    for (const [text, re] of cases) {
      expect(() => parseSegmentsCsv(text, 'f.csv')).toThrow(FileFormatError);
      expect(() => parseSegmentsCsv(text, 'f.csv')).toThrow(re);
    }
  });

  test('format refuses inconsistent rows', () => {
    expect(() => formatSegmentsCsvRow({ ...row, ranks: [1] })).toThrow(InvalidArgumentError);
    expect(() => formatSegmentsCsvRow({ ...row, topEnd: NaN })).toThrow(/top_end is not a finite number/);
  });

  test('a planned clip becomes a row whose top/bottom are its rank-1 / rank-S segments', () => {
    const rng = new Rng(4);
    const flow: number[] = [];
    for (const [sec, lv] of [[20, 2], [20, 6], [20, 0.5]]) for (let i = 0; i < sec * 3; i++) flow.push(lv + 0.05 * rng.normal());
    const plan = planClipSegments(flow, { flowFps: 3, featureLength: 60, segments: 3, minSegmentSeconds: 10, clipId: 'vid7' });
    if (plan.status !== 'ok') throw new Error(plan.message);
    expect(formatSegmentsCsvRow(planToSegmentsRow(plan))).toBe('vid7,"[2, 1, 3]","[[0, 20], [20, 40], [40, 60]]",20,40,40,60');
  });
});
