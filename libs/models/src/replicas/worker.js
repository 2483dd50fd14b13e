'use strict';
// Bootstrap of a replica worker thread: loads the compiled worker next to this file when there is
// one, else the TypeScript source through tsx (workers do not inherit the parent's require hooks).
const fs = require('fs');
const path = require('path');
const compiled = path.join(__dirname, 'worker-main.js');
if (fs.existsSync(compiled)) {
  require(compiled);
} else {
  require('tsx/cjs');
  require(path.join(__dirname, 'worker-main.ts'));
}
