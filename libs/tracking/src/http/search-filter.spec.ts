import { formatSearchFilter, likeToRegExp, matchesClause, parseSearchFilter } from './search-filter';

describe('parseSearchFilter (MLflow grammar)', () => {
  it('parses every comparator, entity alias and quoting form', () => {
    expect(parseSearchFilter("metrics.acc >= 0.5 and params.lr != '0.1' AND tags.`mlflow.runName` LIKE 'a%' AND attributes.status IN ('FINISHED', 'FAILED')")).toEqual([
      { entity: 'metric', key: 'acc', op: '>=', value: 0.5 },
      { entity: 'param', key: 'lr', op: '!=', value: '0.1' },
      { entity: 'tag', key: 'mlflow.runName', op: 'LIKE', value: 'a%' },
      { entity: 'attribute', key: 'status', op: 'IN', value: ['FINISHED', 'FAILED'] },
    ]);
    expect(parseSearchFilter('run_name ilike "x" and param.p not in (\'a\') and metric.m < -1e-3')).toEqual([
      { entity: 'attribute', key: 'run_name', op: 'ILIKE', value: 'x' },
      { entity: 'param', key: 'p', op: 'NOT IN', value: ['a'] },
      { entity: 'metric', key: 'm', op: '<', value: -0.001 },
    ]);
    expect(parseSearchFilter('tags."a b" = \'x\'')).toEqual([{ entity: 'tag', key: 'a b', op: '=', value: 'x' }]);
  });

  it('keeps keywords and quotes inside quoted values', () => {
    expect(parseSearchFilter("params.g = 'rock and roll' AND tags.t = 'it''s OR not'")).toEqual([
      { entity: 'param', key: 'g', op: '=', value: 'rock and roll' },
      { entity: 'tag', key: 't', op: '=', value: "it's OR not" },
    ]);
  });

  it('refuses malformed filters with the position and the problem', () => {
    expect(() => parseSearchFilter("params.a = 'x' OR params.b = 'y'")).toThrow(/OR is not supported/);
    expect(() => parseSearchFilter("params.a = 'x")).toThrow(/unterminated string/);
    expect(() => parseSearchFilter('params.a')).toThrow(/expected a comparison operator/);
    expect(() => parseSearchFilter("foo.a = 'x'")).toThrow(/unknown entity 'foo'/);
    expect(() => parseSearchFilter("params.a IN 'x'")).toThrow(/parenthesised list/);
    expect(() => parseSearchFilter("params.a = 'x' AND")).toThrow(/expected a comparison after 'AND'/);
    expect(() => parseSearchFilter("params.a = 'x' params.b = 'y'")).toThrow(/character 16: expected AND/);
  });

  it('LIKE is case-sensitive, ILIKE is not; % and _ are the only wildcards', () => {
    expect(likeToRegExp('a_c%', false).test('abcdef')).toBe(true);
    expect(likeToRegExp('a_c%', false).test('ABCdef')).toBe(false);
    expect(likeToRegExp('a_c%', true).test('ABCdef')).toBe(true);
    expect(likeToRegExp('1.5', false).test('105')).toBe(false);
    expect(matchesClause({ entity: 'attribute', key: 'name', op: 'NOT IN', value: ['a'] }, 'b')).toBe(true);
    expect(matchesClause({ entity: 'tag', key: 'x', op: '!=', value: 'a' }, undefined)).toBe(false);
  });

  it('formatSearchFilter round-trips through the parser', () => {
    const clauses = parseSearchFilter("tags.`a.b c` = 'it''s' AND metrics.m > 2 AND params.p IN ('x', 'y')");
    expect(parseSearchFilter(formatSearchFilter(clauses))).toEqual(clauses);
  });
});
