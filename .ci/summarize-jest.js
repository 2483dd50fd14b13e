#!/usr/bin/env node
// Sum jest's --json result files: prints "N passed, N failed" as the last line; exit 1 on any failure.
// A suite that failed to run (syntax error, crash) counts as one failed test.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = process.argv[2] || '.jest-results';
let passed = 0;
let failed = 0;
const problems = [];
let files = [];
try {
  files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
} catch {
  problems.push(`no jest results in ${dir}`);
}
for (const f of files.sort()) {
  let r;
  try {
    r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  } catch (e) {
    problems.push(`${f}: unreadable results (${e.message})`);
    failed += 1;
    continue;
  }
  passed += r.numPassedTests || 0;
  failed += r.numFailedTests || 0;
  for (const s of r.testResults || []) {
    if (s.status === 'failed' && (!s.assertionResults || s.assertionResults.length === 0)) {
      failed += 1;
      problems.push(`${path.relative(process.cwd(), s.name)}: suite failed to run: ${(s.message || '').split('\n').slice(0, 3).join(' ')}`);
    }
    for (const a of s.assertionResults || []) {
      if (a.status === 'failed') problems.push(`FAILED ${path.relative(process.cwd(), s.name)} › ${a.fullName}`);
    }
  }
}
if (files.length === 0) failed += 1;
for (const p of problems) console.log(p);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
