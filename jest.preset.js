// Shared jest settings for every project. Type checking is the `typecheck` target's job
// (tsc --noEmit); with `isolatedModules` in tsconfig.base.json ts-jest only transpiles, which keeps
// test runs fast.
const fs = require('fs');
const path = require('path');

// Each project's `test` script writes jest's JSON results here; .ci/run sums them.
fs.mkdirSync(path.join(__dirname, '.jest-results'), { recursive: true });

/** @param {string} projectDir @param {object} [extra] */
module.exports = function preset(projectDir, extra = {}) {
  const name = path.basename(projectDir);
  return {
    displayName: name,
    rootDir: projectDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    transform: {
      '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(projectDir, 'tsconfig.json') }],
    },
    moduleFileExtensions: ['ts', 'js', 'json'],
    testTimeout: 120000,
    ...extra,
  };
};
