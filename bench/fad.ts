/** `npm run bench -- fad`: the FAD part of `bench/metrics.ts`. */
process.argv[2] = 'fad';
require('./metrics.ts');
