// Worker-thread entry for `vmr ingest`: loads the TypeScript worker through tsx (no build step).
'use strict';
require('tsx/cjs');
require('./worker-main.ts');
