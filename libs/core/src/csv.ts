/**
 * Text formats of the reference code's files: RFC 4180 CSV (the data import's metadata, segments.csv)
 * and the Python / NumPy list literals those CSVs hold. One tokenizer serves whole files and single lines.
 */
import { FileFormatError } from './errors';

/** The records of RFC 4180 CSV text (quoted fields may contain commas, quotes and newlines). */
function csvRecords(text: string, source: string, keepBlank: boolean): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const t = text.replace(/^\uFEFF/, '');
  const endRecord = () => {
    row.push(field);
    field = '';
    if (keepBlank || row.some((f) => f.length > 0)) rows.push(row);
    row = [];
  };
  while (i < t.length) {
    const c = t[i];
    if (quoted) {
      if (c === '"') {
        if (t[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field.length === 0) {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\n' || c === '\r') {
      endRecord();
      i += c === '\r' && t[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new FileFormatError(`${source}: unterminated quoted field`, { details: { path: source } });
  endRecord();
  return rows;
}

/** Parse RFC 4180 CSV text into records; blank lines are skipped. `source` names the file in errors. */
export function parseCsv(text: string, source: string): string[][] {
  return csvRecords(text, source, false);
}

/** The fields of one CSV line (RFC 4180 quoting); an empty line is one empty field. `where` names it in errors. */
export function splitCsvLine(line: string, where: string): string[] {
  return csvRecords(line, where, true)[0] ?? [''];
}

/**
 * All numbers of a Python / NumPy literal, with their nesting: "[3 1 2]" (NumPy repr, maybe wrapped
 * over lines), "[3, 1, 2]", "[(0, 36), (36, 72)]", "[[ 0 36]\n [36 72]]", "array([1, 2])".
 * Returns a flat list of numbers or a list of number lists.
 */
export function parsePyNumberList(text: string, where: string): number[] | number[][] {
  const s = text.trim().replace(/^array\(/, '').replace(/\)$/, '').replace(/\(/g, '[').replace(/\)/g, ']');
  if (!s.startsWith('[') || !s.endsWith(']')) throw new FileFormatError(`${where}: not a list literal: ${JSON.stringify(text.slice(0, 80))}`);
  const inner = s.slice(1, -1).trim();
  const num = (tok: string): number => {
    const v = Number(tok.replace(/\.$/, ''));
    if (tok === '' || !Number.isFinite(v)) throw new FileFormatError(`${where}: ${JSON.stringify(tok)} is not a number in ${JSON.stringify(text.slice(0, 80))}`);
    return v;
  };
  const tokens = (part: string): number[] =>
    part
      .split(/[\s,]+/)
      .filter((x) => x.length > 0)
      .map(num);
  if (inner.includes('[')) {
    const groups = inner.match(/\[[^[\]]*\]/g) ?? [];
    const rest = inner.replace(/\[[^[\]]*\]/g, '').replace(/[\s,]/g, '');
    if (rest.length > 0) throw new FileFormatError(`${where}: unexpected text ${JSON.stringify(rest.slice(0, 20))} in a nested list`);
    return groups.map((g) => tokens(g.slice(1, -1)));
  }
  return tokens(inner);
}
