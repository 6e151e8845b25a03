import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    environment: "node",
    // Unit tests never touch the network: nock intercepts every admin call.
    testTimeout: 10_000,
  },
});
