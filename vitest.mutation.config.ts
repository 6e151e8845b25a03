import { defineConfig, mergeConfig } from "vitest/config";
import unit from "./vitest.unit.config.js";

// The unit suite as Stryker runs it, once per mutant.
// - Child processes, not worker threads: a worker thread cannot change its time zone, so the
//   arguments test that sets TZ would fail under threads. Stryker's vitest runner sets the pool
//   itself from stryker.config.json (vitest.pool); this says the same for a run by hand:
//   `npx vitest run --config vitest.mutation.config.ts <test file>`.
// - Without isolation: Stryker switches mutants on in already loaded code, so each test file
//   need not import everything afresh, and importing was more than half of each run. The whole
//   unit suite passes this way (checked; each test file resets what it changes).
export default mergeConfig(unit, defineConfig({ test: { pool: "forks", isolate: false } }));
