#!/usr/bin/env node
// `npm run bench -- <name> [args…]`: runs bench/<name>.ts through tsx.
'use strict';
const fs = require('fs');
const path = require('path');

const available = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'timing.ts') // timing.ts: shared helper
  .map((f) => f.slice(0, -3))
  .sort();
const name = process.argv[2];
if (!name || !available.includes(name)) {
  process.stderr.write(
    (name ? `bench: unknown benchmark "${name}".\n` : 'bench: give a benchmark name.\n') +
      `Available: ${available.length ? available.join(', ') : '(none)'}\nUsage: npm run bench -- <name> [args…]\n`,
  );
  process.exit(2);
}
process.argv.splice(2, 1); // the bench sees its own arguments from argv[2]
require('tsx/cjs');
require(path.join(__dirname, `${name}.ts`));
