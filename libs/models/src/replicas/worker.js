// Worker-thread entry of a training replica (ReplicaPool): runs worker-main.ts from the compiled build
// (bin/build.js), or through tsx with VMR_NO_BUILD=1 (workers do not inherit the parent's require hooks).
'use strict';
require('../../../../bin/build').runEntry('libs/models/src/replicas/worker-main.ts');
