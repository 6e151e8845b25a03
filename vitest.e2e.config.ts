import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.test.ts"],
    // The run's PostgreSQL cluster (WARDEN_E2E_DATABASE=sqlite: none, SQLite files instead).
    globalSetup: ["test/e2e/globalSetup.ts"],
    environment: "node",
    // Each file starts its own Synapse; two cores cannot run several at once quickly.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
