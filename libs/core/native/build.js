#!/usr/bin/env node
/**
 * Build the optional native GEMM addon (libs/core/native/gemm.cc → build/vmr_gemm.node) with the
 * system C++ compiler and Node's own N-API headers; no download, no node-gyp.
 *
 * Run by `npm install` (through bin/build.js, the `prepare` step) and by `node libs/core/native/build.js`.
 * Never fails an install: without a compiler, headers or an x86-64 CPU it prints one line and the
 * wasm backend keeps its own (XNNPACK) matrix products. `--strict` exits 1 instead (CI).
 * Compiler: $CXX, else g++, else clang++. Headers: <node prefix>/include/node, /usr/include/node,
 * /usr/local/include/node, or $VMR_NODE_HEADERS.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const HERE = __dirname;
const SOURCE = path.join(HERE, 'gemm.cc');
const OUT = path.join(HERE, 'build', 'vmr_gemm.node');

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

/** Build when the addon is missing or older than its source (`staleOnly`: only when older). Returns { ok, path?, note }. */
function buildNativeGemm(opts = {}) {
  if (process.arch !== 'x64') return { ok: false, note: `native GEMM not built: ${process.arch} CPU (it needs x86-64 with AVX2); the wasm backend uses XNNPACK` };
  if (!opts.force && fs.existsSync(OUT) && fs.statSync(OUT).mtimeMs >= fs.statSync(SOURCE).mtimeMs) return { ok: true, path: OUT, note: 'native GEMM up to date' };
  // staleOnly (every `vmr` start): refresh an addon older than its source; never try where none was built
  if (opts.staleOnly && !fs.existsSync(OUT)) return { ok: false, note: 'native GEMM not built' };
  const headers = headerDir();
  if (!headers) return { ok: false, note: 'native GEMM not built: Node headers (node_api.h) not found (set VMR_NODE_HEADERS); the wasm backend uses XNNPACK' };
  const cxx = compiler();
  if (!cxx) return { ok: false, note: 'native GEMM not built: no C++ compiler (g++ or clang++; set CXX); the wasm backend uses XNNPACK' };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  const tmp = `${OUT}.${process.pid}.tmp`;
  const args = ['-O3', '-std=c++17', '-shared', '-fPIC', '-pthread', '-fno-exceptions', '-DNODE_GYP_MODULE_NAME=vmr_gemm', `-I${headers}`, SOURCE, '-o', tmp];
  if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
  const r = spawnSync(cxx, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    const why = (r.error ? r.error.message : (r.stderr || '').trim().split('\n').find((l) => /error/.test(l)) || `exit ${r.status}`).slice(0, 200);
    return { ok: false, note: `native GEMM not built: ${cxx} failed: ${why}; the wasm backend uses XNNPACK` };
  }
  fs.renameSync(tmp, OUT); // atomic: a process loading the addon never sees half a file
  return { ok: true, path: OUT, note: `native GEMM built with ${cxx} → ${path.relative(process.cwd(), OUT) || OUT}` };
}

module.exports = { buildNativeGemm, NATIVE_GEMM_PATH: OUT };

if (require.main === module) {
  const r = buildNativeGemm({ force: process.argv.includes('--force') });
  (r.ok ? process.stdout : process.stderr).write(`vmr: ${r.note}\n`);
  if (!r.ok && process.argv.includes('--strict')) process.exitCode = 1;
}
