import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests install and run emitted services; unit tests finish far below these bounds.
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // Two cores here: e2e files that run npm install should not all start at once.
    maxWorkers: 2,
  },
});
