// Shared jest settings for every project. Type checking is the `typecheck` target's job
// (tsc --noEmit), so ts-jest only transpiles here (isolatedModules) to keep test runs fast.
const path = require('path');

/** @param {string} projectDir @param {object} [extra] */
module.exports = function preset(projectDir, extra = {}) {
  const name = path.basename(projectDir);
  return {
    displayName: name,
    rootDir: projectDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    transform: {
      '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: path.join(projectDir, 'tsconfig.json') }],
    },
    moduleFileExtensions: ['ts', 'js', 'json'],
    testTimeout: 120000,
    ...extra,
  };
};
