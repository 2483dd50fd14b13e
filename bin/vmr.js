#!/usr/bin/env node
// The `vmr` command-line entry: runs bin/vmr.ts from the compiled build in dist/ (rebuilt first when
// any source changed), or through tsx with VMR_NO_BUILD=1. See bin/build.js.
'use strict';
require('./build').runEntry('bin/vmr.ts');
