import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/arm64/ builds and runs the image under emulation, too slow for every run: `npm run test:arm64`
    // (vitest.arm64.config.ts), which .ci/run runs after npm test.
    exclude: [...configDefaults.exclude, 'test/arm64/**'],
    // End-to-end tests install and run emitted services; unit tests finish far below these bounds.
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // Two cores here: e2e files that run npm install should not all start at once.
    maxWorkers: 2,
  },
});
