#!/usr/bin/env node
/**
 * Build the optional native addons with the system C++ compiler and Node's own N-API headers; no
 * download, no node-gyp:
 * - `vmr_gemm` (libs/core/native/gemm.cc → libs/core/native/build/vmr_gemm.node): the SGEMM of the
 *   tfjs wasm backend; without it the backend keeps its own (XNNPACK) matrix products.
 * - `vmr_features` (libs/features/native/{addon,farneback,prepare,frame_stats}.cc →
 *   libs/features/native/build/vmr_features.node): the Farnebäck optical flow and the flow frames'
 *   resize + grey, bit-identical to OpenCV.js's, and the builtin-video frame sums, bit-identical to the
 *   TypeScript; without it OpenCV.js and the TypeScript compute them.
 *
 * Run by `npm install` (through bin/build.js, the `prepare` step) and by `node libs/core/native/build.js`.
 * Never fails an install: without a compiler, headers or an x86-64 CPU it prints one line per addon and
 * the fallback is used. `--strict` exits 1 instead (CI).
 * Compiler: $CXX, else g++, else clang++. Headers: <node prefix>/include/node, /usr/include/node,
 * /usr/local/include/node, or $VMR_NODE_HEADERS.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const HERE = __dirname;
const REPO = path.resolve(HERE, '..', '..', '..');

/** The addons: what each is, its source, its output and the compiler flags it needs beyond -O3. */
const ADDONS = {
  gemm: {
    name: 'vmr_gemm',
    what: 'native GEMM',
    fallback: 'the wasm backend uses XNNPACK',
    source: [path.join(HERE, 'gemm.cc')],
    out: path.join(HERE, 'build', 'vmr_gemm.node'),
    flags: [],
  },
  features: {
    name: 'vmr_features',
    what: 'native features (Farnebäck flow, frame resize + grey, builtin-video sums)',
    fallback: 'optical flow and its frames run in OpenCV.js, builtin-video in TypeScript (same results)',
    source: ['addon.cc', 'farneback.cc', 'frame_stats.cc', 'prepare.cc'].map((f) => path.join(REPO, 'libs', 'features', 'native', f)),
    out: path.join(REPO, 'libs', 'features', 'native', 'build', 'vmr_features.node'),
    // OpenCV's float arithmetic, operation for operation: never fuse a*b+c into one rounding (errno
    // from sqrt is never read; without it sqrt is one instruction)
    flags: ['-ffp-contract=off', '-fno-math-errno'],
  },
};
const OUT = ADDONS.gemm.out;
/** The header every addon includes (CHECK, typed-array arguments); a change to it rebuilds them all. */
const SHARED_HEADER = path.join(HERE, 'vmr_napi.h');

function headerDir() {
  const candidates = [
    process.env.VMR_NODE_HEADERS,
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
}

function compiler() {
  for (const cxx of [process.env.CXX, 'g++', 'clang++'].filter(Boolean)) {
    const r = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return cxx;
  }
  return undefined;
}

/** Build one addon when it is missing or older than its source (`staleOnly`: only when older). Returns { ok, path?, note }. */
function buildAddon(spec, opts = {}) {
  const { what, fallback, source, out } = spec;
  if (process.arch !== 'x64') return { ok: false, note: `${what} not built: ${process.arch} CPU (it needs x86-64); ${fallback}` };
  const missing = source.find((f) => !fs.existsSync(f));
  if (missing) return { ok: false, note: `${what} not built: ${missing} missing; ${fallback}` };
  const newest = Math.max(...[...source, SHARED_HEADER].map((f) => fs.statSync(f).mtimeMs));
  if (!opts.force && fs.existsSync(out) && fs.statSync(out).mtimeMs >= newest) return { ok: true, path: out, note: `${what} up to date` };
  // staleOnly (every `vmr` start): refresh an addon older than its source; never try where none was built
  if (opts.staleOnly && !fs.existsSync(out)) return { ok: false, note: `${what} not built` };
  const headers = headerDir();
  if (!headers) return { ok: false, note: `${what} not built: Node headers (node_api.h) not found (set VMR_NODE_HEADERS); ${fallback}` };
  const cxx = compiler();
  if (!cxx) return { ok: false, note: `${what} not built: no C++ compiler (g++ or clang++; set CXX); ${fallback}` };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const args = ['-O3', '-std=c++17', '-shared', '-fPIC', '-pthread', '-fno-exceptions', ...spec.flags, `-DNODE_GYP_MODULE_NAME=${spec.name}`, `-I${headers}`, `-I${HERE}`, ...source, '-o', tmp];
  if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
  const r = spawnSync(cxx, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    const why = (r.error ? r.error.message : (r.stderr || '').trim().split('\n').find((l) => /error/.test(l)) || `exit ${r.status}`).slice(0, 200);
    return { ok: false, note: `${what} not built: ${cxx} failed: ${why}; ${fallback}` };
  }
  fs.renameSync(tmp, out); // atomic: a process loading the addon never sees half a file
  return { ok: true, path: out, note: `${what} built with ${cxx} → ${path.relative(process.cwd(), out) || out}` };
}

function buildNativeGemm(opts = {}) {
  return buildAddon(ADDONS.gemm, opts);
}

/** Every addon; one result per addon (in ADDONS order). */
function buildNativeAddons(opts = {}) {
  return Object.values(ADDONS).map((spec) => buildAddon(spec, opts));
}

module.exports = { buildNativeAddons, buildNativeGemm, NATIVE_GEMM_PATH: OUT, NATIVE_FEATURES_PATH: ADDONS.features.out };

if (require.main === module) {
  for (const r of buildNativeAddons({ force: process.argv.includes('--force') })) {
    (r.ok ? process.stdout : process.stderr).write(`vmr: ${r.note}\n`);
    if (!r.ok && process.argv.includes('--strict')) process.exitCode = 1;
  }
}
