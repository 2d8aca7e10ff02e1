import { defineConfig } from 'vitest/config';

/** `npm run test:arm64`: the emitted image for linux/arm64, built and run under emulation (test/arm64/). */
export default defineConfig({
  test: {
    include: ['test/arm64/**/*.test.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 60 * 60_000,
  },
});
