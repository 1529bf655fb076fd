import { defineConfig } from 'vitest/config';

/** The vitest setup of every package; each package's vitest.config.ts re-exports it. */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    // Suites run side by side on two cores in CI: heavy tests get room instead of flaking.
    testTimeout: 30_000,
  },
});
