import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn real processes and fsync real files; two cores are enough for two workers.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
