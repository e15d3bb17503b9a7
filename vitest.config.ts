import {defineConfig} from 'vitest/config';
import {BaseSequencer, type TestSpecification} from 'vitest/node';

/**
 * The in-VM kernel suite (test/kernel-vm.test.ts) runs for minutes in one worker, mostly waiting on
 * qemu: started first, the other files run beside it on the second worker instead of after it.
 */
class KernelVmFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => (f.moduleId.endsWith('kernel-vm.test.ts') ? 0 : 1);
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    exclude: ['node_modules/**', 'dist/**'],
    // end-to-end tests run the compiled build: bring dist/ up to date first
    globalSetup: ['bench/build-dist.ts'],
    testTimeout: 60_000,
    sequence: {sequencer: KernelVmFirst},
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: {json: '.test-results/vitest.json'},
  },
});
