// Worker-thread entry for `vmr ingest`: runs worker-main.ts from the compiled build (bin/build.js),
// or through tsx with VMR_NO_BUILD=1.
'use strict';
require('../../../../bin/build').runEntry('libs/data/src/ingest/worker-main.ts');
