#!/usr/bin/env node
/**
 * The compiled build of VMR Lab's TypeScript entry points, and the loader that keeps it fresh.
 *
 * Processes run compiled JavaScript, not TypeScript transpiled at every start: esbuild bundles each
 * entry (bin/vmr.ts, worker entries) with every `@vmr/*` workspace source it reaches into
 * `dist/<build id>/<entry>.js`; packages from node_modules stay external (required at run time, so
 * native and wasm packages — better-sqlite3, tfjs, OpenCV, onnxruntime… — load as usual, and only when
 * the code that needs them runs). `dist/current.json` names the build and every source file it was made
 * from (path, mtime, size).
 *
 * `runEntry(rel)` never runs stale code: when any input changed (or the repository moved) it rebuilds
 * first (under a lock; one process builds while others wait; a new build goes to a new directory and
 * `current.json` is replaced atomically, so processes starting at the same time are safe). If the build
 * cannot be made (read-only install, esbuild missing) it runs the sources through tsx and says so in one
 * line. `VMR_NO_BUILD=1` always runs the sources through tsx.
 *
 * `node bin/build.js` (the `prepare` script: runs at `npm install`) builds now, and builds the optional
 * native GEMM addon of the wasm backend (libs/core/native/build.js; without a C++ compiler that is a
 * one-line note, never a failed install).
 */
'use strict';
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
/** Every TypeScript file a process starts from (the CLI and worker entries). */
const ENTRIES = ['bin/vmr.ts', 'libs/data/src/ingest/worker-main.ts', 'libs/models/src/replicas/worker-main.ts'];
/** Files that change the build without being bundled sources. */
const EXTRA_INPUTS = ['bin/build.js', 'tsconfig.json', 'tsconfig.base.json', 'package.json'];
const LOCK_STALE_MS = 60000;

/** EXTRA_INPUTS plus every workspace's tsconfig.json (esbuild reads the nearest one for `paths`). */
function extraInputs(root) {
  const out = EXTRA_INPUTS.filter((f) => fs.existsSync(path.join(root, f)));
  for (const group of ['libs', 'apps'])
    for (const name of fs.existsSync(path.join(root, group)) ? fs.readdirSync(path.join(root, group)) : [])
      if (fs.existsSync(path.join(root, group, name, 'tsconfig.json'))) out.push(`${group}/${name}/tsconfig.json`);
  return out;
}

function defaults(opts = {}) {
  const root = opts.root ?? ROOT;
  return {
    root,
    entries: opts.entries ?? ENTRIES,
    extraInputs: opts.extraInputs ?? extraInputs(root),
    dist: opts.dist ?? path.join(root, 'dist'),
    tsconfig: opts.tsconfig ?? path.join(root, 'tsconfig.json'),
  };
}

function readCurrent(o) {
  try {
    return JSON.parse(fs.readFileSync(path.join(o.dist, 'current.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function statKey(abs) {
  const s = fs.statSync(abs);
  return [s.mtimeMs, s.size];
}

/** Whether `cur` is a build of the current sources of every entry (no input changed, moved or vanished). */
function isFresh(cur, o) {
  if (!cur || cur.root !== o.root || !Array.isArray(cur.inputs)) return false;
  for (const e of o.entries) if (!cur.entries || !cur.entries.includes(e)) return false;
  if (!fs.existsSync(path.join(o.dist, cur.id))) return false;
  for (const [rel, mtime, size] of cur.inputs) {
    try {
      const [m, s] = statKey(path.join(o.root, rel));
      if (m !== mtime || s !== size) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * esbuild plugins: keep every bare import that is not a `@vmr/*` workspace package external, and give
 * bundled sources their own location (`__dirname`, `__filename`, `require.resolve(…)` are the source
 * file's, as under tsx: migrations, worker scripts, data files and packages installed beside a package
 * are found from the sources).
 */
function plugins(o) {
  return [
    {
      name: 'vmr-externals',
      setup(b) {
        const rootModules = path.join(o.root, 'node_modules') + path.sep;
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith('@vmr/') || path.isAbsolute(args.path)) return undefined;
          // A package installed beside the importing package (libs/x/node_modules, a version conflict)
          // is required by its absolute path: from dist/ the bare name would not find it.
          try {
            const at = require.resolve(args.path, { paths: [args.resolveDir] });
            if (path.isAbsolute(at) && !at.startsWith(rootModules)) return { path: at, external: true };
          } catch {
            /* optional or missing package: fails at run time exactly as from the sources */
          }
          return { path: args.path, external: true };
        });
      },
    },
    {
      name: 'vmr-source-location',
      setup(b) {
        b.onLoad({ filter: /\.ts$/ }, (args) => {
          if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
          const text = fs.readFileSync(args.path, 'utf8');
          if (!/__dirname|__filename|require\.resolve\(/.test(text)) return undefined;
          const dir = path.dirname(args.path);
          const contents = text
            .replace(/\b__dirname\b/g, JSON.stringify(dir))
            .replace(/\b__filename\b/g, JSON.stringify(args.path))
            .replace(/require\.resolve\(\s*(['"])(\.\.?\/[^'"]*)\1\s*\)/g, (_, _q, rel) => JSON.stringify(path.resolve(dir, rel)))
            // require.resolve('pkg') resolves from the source file's folder, as it does under tsx.
            .replace(/require\.resolve\(\s*(['"])([^./'"][^'"]*)\1\s*\)/g, (_, _q, bare) => `require.resolve(${JSON.stringify(bare)}, { paths: [${JSON.stringify(dir)}] })`);
          return { contents, loader: 'ts' };
        });
      },
    },
  ];
}

/** Build every entry into a new `dist/<id>/` and make it current. Returns the new current.json. */
async function build(opts = {}) {
  const o = defaults(opts);
  const esbuild = require('esbuild');
  fs.mkdirSync(o.dist, { recursive: true });
  const id = `b-${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const out = path.join(o.dist, id);
  const result = await esbuild.build({
    absWorkingDir: o.root,
    entryPoints: o.entries.map((e) => path.join(o.root, e)),
    outbase: o.root,
    outdir: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    tsconfig: o.tsconfig,
    plugins: plugins(o),
  });
  const inputs = new Set(o.extraInputs);
  for (const rel of Object.keys(result.metafile.inputs)) if (!rel.includes('node_modules/') && !rel.includes(':')) inputs.add(rel);
  const cur = { id, root: o.root, entries: o.entries, builtAt: new Date().toISOString(), inputs: [...inputs].sort().map((rel) => [rel, ...statKey(path.join(o.root, rel))]) };
  const tmp = path.join(o.dist, `.current.json.${process.pid}.${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(tmp, JSON.stringify(cur));
  fs.renameSync(tmp, path.join(o.dist, 'current.json'));
  removeOldBuilds(o, id);
  return cur;
}

/** Builds other than the current one, not touched for 10 minutes (no process is still starting from them). */
function removeOldBuilds(o, keep) {
  for (const name of fs.readdirSync(o.dist)) {
    if (!name.startsWith('b-') || name === keep) continue;
    const p = path.join(o.dist, name);
    try {
      if (Date.now() - fs.statSync(p).mtimeMs > 10 * 60000) fs.rmSync(p, { recursive: true, force: true });
    } catch {
      /* another process removed it */
    }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A fresh build of the entries: the current one, or one this process (or a concurrent one) makes now. */
async function ensureBuilt(opts = {}) {
  const o = defaults(opts);
  for (;;) {
    const cur = readCurrent(o);
    if (isFresh(cur, o)) return cur;
    fs.mkdirSync(o.dist, { recursive: true });
    const lock = path.join(o.dist, '.building');
    let locked = false;
    try {
      fs.mkdirSync(lock);
      locked = true;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    if (locked) {
      try {
        const again = readCurrent(o);
        return isFresh(again, o) ? again : await build(o);
      } finally {
        fs.rmSync(lock, { recursive: true, force: true });
      }
    }
    let age = 0;
    try {
      age = Date.now() - fs.statSync(lock).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    if (age > LOCK_STALE_MS) fs.rmSync(lock, { recursive: true, force: true }); // its builder died
    else await sleep(50);
  }
}

/**
 * Run a TypeScript entry (path relative to the repository root, one of ENTRIES) from the fresh
 * compiled build, or from the sources through tsx when `VMR_NO_BUILD=1` or no build can be made.
 */
async function runEntry(rel, opts = {}) {
  const o = defaults(opts);
  if (process.env.VMR_DEBUG) process.setSourceMapsEnabled?.(true);
  if (!opts.root) {
    // the native addons follow their sources too (a pulled gemm.cc); a failed rebuild leaves the old one
    try {
      for (const r of require('../libs/core/native/build.js').buildNativeAddons({ staleOnly: true })) {
        if (!r.ok && !/ not built$/.test(r.note)) process.stderr.write(`vmr: ${r.note}\n`);
      }
    } catch {
      /* never blocks the CLI */
    }
  }
  if (!process.env.VMR_NO_BUILD) {
    let cur;
    try {
      cur = await ensureBuilt(o);
    } catch (e) {
      const msg = String((e && e.message) || e).split('\n')[0];
      process.stderr.write(`vmr: running from TypeScript sources (slower start): the compiled build failed: ${msg} (\`npm run build\` shows why)\n`);
    }
    if (cur) {
      require(path.join(o.dist, cur.id, rel.replace(/\.ts$/, '.js')));
      return;
    }
  }
  require('tsx/cjs');
  require(path.join(o.root, rel));
}

module.exports = { ENTRIES, build, ensureBuilt, isFresh, readCurrent, runEntry };

if (require.main === module) {
  const t0 = Date.now();
  try {
    for (const native of require('../libs/core/native/build.js').buildNativeAddons()) {
      (native.ok ? process.stdout : process.stderr).write(`vmr: ${native.note}\n`);
    }
  } catch (e) {
    process.stderr.write(`vmr: native addons not built: ${String((e && e.message) || e).split('\n')[0]}; the fallbacks (XNNPACK, OpenCV.js) are used\n`);
  }
  build().then(
    (cur) => process.stdout.write(`vmr build: ${cur.entries.length} entries from ${cur.inputs.length} files → dist/${cur.id} (${Date.now() - t0} ms)\n`),
    (e) => {
      process.stderr.write(`vmr build failed: ${e.message}\n`);
      // Not fatal at install time: bin/vmr.js then runs the sources through tsx (and says so).
      process.exitCode = process.argv.includes('--strict') ? 1 : 0;
    },
  );
}
