import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    exclude: ['node_modules/**', 'dist/**'],
    // end-to-end tests run the compiled build: bring dist/ up to date first
    globalSetup: ['bench/build-dist.ts'],
    testTimeout: 60_000,
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: {json: '.test-results/vitest.json'},
  },
});
