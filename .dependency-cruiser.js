/**
 * The dependency arrows of DESIGN.md §2, enforced by dependency-cruiser (`npm run deps`; also run by
 * tools/test/dependency-arrows.spec.ts, hence by `npm test` and .ci/run). A forbidden import fails
 * with the importing file, the imported file and the rule named.
 *
 * Arrows (nothing else): core ← every lib; segmentation, metrics, tracking, models: core only;
 * features: core; losses: core, models; data: core, features, segmentation;
 * pipeline: core, data, segmentation, models, losses, metrics, tracking; apps: any lib; apps do not import each
 * other, except the sweeper, which runs the trainer's / evaluator's public entry functions. Libs never
 * import apps.
 * Every package is imported through its public entry (`@vmr/x` = src/index.ts; `@vmr/core/tf`), never
 * `@vmr/x/src/...` or a relative path into another package.
 *
 * Adding a lib: add it to LIB_ARROWS (and to DESIGN.md §2 / CONTRIBUTING.md).
 */
const LIB_ARROWS = {
  core: [],
  segmentation: ['core'],
  metrics: ['core'],
  tracking: ['core'],
  models: ['core'],
  features: ['core'],
  losses: ['core', 'models'],
  data: ['core', 'features', 'segmentation', 'metrics'],
  pipeline: ['core', 'data', 'segmentation', 'models', 'losses', 'metrics', 'tracking'],
};
/** Public entry files: what other packages may import. */
const ENTRIES = ['^(libs|apps)/[^/]+/src/index\\.ts$', '^libs/core/src/tf/index\\.ts$', '^libs/core/native/build\\.js$' /* the addon's build step, run by bin/build.js */];
/** Tests may use other libs (e.g. metrics to check data); the arrows bind production code. */
const TEST_FILES = '\\.spec\\.ts$|^(libs|apps)/[^/]+/test/';

module.exports = {
  forbidden: [
    {
      name: 'lib-imports-app',
      comment: 'Libraries never depend on apps (DESIGN.md §2): move what is shared into a lib.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    ...Object.entries(LIB_ARROWS).map(([lib, allowed]) => ({
      name: `arrow-${lib}`,
      comment: `@vmr/${lib} may import only ${allowed.length ? allowed.map((a) => `@vmr/${a}`).join(', ') : 'no other @vmr package'} (DESIGN.md §2 arrows)`,
      severity: 'error',
      from: { path: `^libs/${lib}/`, pathNot: TEST_FILES },
      to: { path: '^libs/[^/]+/', pathNot: `^libs/(${[lib, ...allowed].join('|')})/` },
    })),
    {
      name: 'app-imports-app',
      comment: 'Apps do not import each other: only the sweeper runs the trainer/evaluator entry functions (DESIGN.md §2); what two apps share lives in a lib (@vmr/pipeline).',
      severity: 'error',
      from: { path: '^apps/(trainer|evaluator)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'deep-import',
      comment: "Import another package only through its public entry (@vmr/x, @vmr/core/tf), never '@vmr/x/src/...' or a relative path into it.",
      severity: 'error',
      from: { path: '^(libs|apps)/([^/]+)/' },
      to: { path: '^(libs|apps)/[^/]+/', pathNot: ['^$1/$2/', ...ENTRIES] },
    },
    {
      name: 'deep-import-from-tooling',
      comment: "bin/, bench/ and tools/ import packages only through their public entries (bench/ may also reuse the e2e suites' engine labs, apps/*/test/helpers: a Slurm cluster, network namespaces).",
      severity: 'error',
      from: { path: '^(bin|bench|tools)/' },
      to: { path: '^(libs|apps)/[^/]+/', pathNot: [...ENTRIES, '^apps/[^/]+/test/helpers'] },
    },
    {
      name: 'unresolvable-vmr-import',
      comment: 'An @vmr/* import that resolves to no file (a misspelt package or a deep path that does not exist).',
      severity: 'error',
      from: {},
      to: { path: '^@vmr/', couldNotResolve: true },
    },
    {
      name: 'tfjs-in-shell-barrel',
      comment: 'TensorFlow.js loads only in code that trains or embeds (@vmr/core/tf): never from @vmr/core or @vmr/tracking, which every command loads.',
      severity: 'error',
      from: { path: '^libs/(core|tracking)/src/index\\.ts$' },
      to: { path: 'node_modules/@tensorflow/', reachable: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'node', 'default'], extensions: ['.ts', '.js', '.json'] },
    moduleSystems: ['cjs', 'es6'],
  },
};
