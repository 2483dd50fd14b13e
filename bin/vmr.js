#!/usr/bin/env node
// The `vmr` command-line entry. Packages run as TypeScript through tsx (no build step).
'use strict';
require('tsx/cjs');
require('./vmr.ts');
