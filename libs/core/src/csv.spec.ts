import { FileFormatError } from './errors';
import { parseCsv, parsePyNumberList, splitCsvLine } from './csv';

describe('CSV (RFC 4180) and Python / NumPy list literals', () => {
  it('parses whole files: quoted commas, doubled quotes, quoted newlines, CRLF, a BOM; blank lines skipped', () => {
    const text = '\uFEFFvid,ranks\r\n"a,b","[1, 2]"\r\n\r\n"say ""hi""","line1\nline2"\nlast,\n';
    expect(parseCsv(text, 'f.csv')).toEqual([
      ['vid', 'ranks'],
      ['a,b', '[1, 2]'],
      ['say "hi"', 'line1\nline2'],
      ['last', ''],
    ]);
    expect(() => parseCsv('a,"open\n', 'f.csv')).toThrow(FileFormatError);
    expect(() => parseCsv('a,"open\n', 'f.csv')).toThrow(/^f\.csv: unterminated quoted field$/);
  });

  it('splits one line with the same quoting; an empty line is one empty field', () => {
    expect(splitCsvLine('x,"[[0, 30], [30, 70]]",30,', 'segments.csv:2')).toEqual(['x', '[[0, 30], [30, 70]]', '30', '']);
    expect(splitCsvLine('', 'segments.csv:3')).toEqual(['']);
    expect(() => splitCsvLine('"a', 'segments.csv:4')).toThrow(/^segments\.csv:4: unterminated quoted field$/);
  });

  it('parses numpy-repr and python-list literals', () => {
    expect(parsePyNumberList('[ 3  1 10\n  2]', 'x')).toEqual([3, 1, 10, 2]);
    expect(parsePyNumberList('[(0, 36), (36, 72)]', 'x')).toEqual([[0, 36], [36, 72]]);
    expect(parsePyNumberList('[[ 0 36]\n [36 72]]', 'x')).toEqual([[0, 36], [36, 72]]);
    expect(parsePyNumberList('array([1., 2.])', 'x')).toEqual([1, 2]);
    expect(parsePyNumberList('[3, 1, 2]', 'x')).toEqual([3, 1, 2]);
    expect(parsePyNumberList('[]', 'x')).toEqual([]);
    expect(() => parsePyNumberList('[1, x]', 'ranks.csv row 2')).toThrow(/ranks\.csv row 2/);
  });
});
