import { defineConfig, mergeConfig } from "vitest/config";
import unit from "./vitest.unit.config.js";

// The unit suite as Stryker runs it. Child processes, not worker threads: a worker thread
// cannot change its time zone, so the arguments test that sets TZ would fail under threads.
// Stryker's vitest runner sets the pool itself from stryker.config.json (vitest.pool), so
// this file says the same thing for anyone reproducing a mutant's run by hand:
// `npx vitest run --config vitest.mutation.config.ts <test file>`.
export default mergeConfig(unit, defineConfig({ test: { pool: "forks" } }));
