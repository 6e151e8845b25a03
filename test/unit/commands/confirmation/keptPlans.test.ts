import { describe, expect, it } from "vitest";
import { KEEP_PLAN_MS, KeptPlans } from "../../../../src/commands/confirmation/keptPlans.js";
import { err, ok, type Result } from "../../../../src/util/result.js";
import { FixedClock } from "../../../fakes/fixedClock.js";

/** A plan computed from a counter, so each computation is told apart from a kept one. */
function counting() {
  let computed = 0;
  return {
    computations: () => computed,
    compute: (): Promise<Result<string, string>> => {
      computed += 1;
      return Promise.resolve(ok(`plan ${computed}`));
    },
  };
}

describe("KeptPlans", () => {
  it("computes a command's plan once and hands the same plan to its confirmed run", async () => {
    const plans = new KeptPlans<string>(new FixedClock());
    const { compute, computations } = counting();

    expect(await plans.plan("$command", compute)).toEqual(ok("plan 1"));
    expect(await plans.plan("$command", compute)).toEqual(ok("plan 1"));
    expect(await plans.plan("$other", compute)).toEqual(ok("plan 2"));
    expect(computations()).toBe(2);
  });

  it("keeps a plan through the longest confirmation window (24 h), and forgets it after", async () => {
    const clock = new FixedClock();
    const plans = new KeptPlans<string>(clock);
    const { compute } = counting();
    await plans.plan("$command", compute);

    expect(KEEP_PLAN_MS).toBeGreaterThan(24 * 3_600_000);
    clock.advance(KEEP_PLAN_MS);
    expect(await plans.plan("$command", compute)).toEqual(ok("plan 1"));
    clock.advance(1);
    expect(await plans.plan("$command", compute)).toEqual(ok("plan 2"));
  });

  it("forgets plans that expired while others were asked for", async () => {
    const clock = new FixedClock();
    const plans = new KeptPlans<string>(clock);
    const { compute } = counting();
    await plans.plan("$old", compute);
    clock.advance(KEEP_PLAN_MS + 1);
    await plans.plan("$new", compute);

    expect(plans.size()).toBe(1);
  });

  it("keeps no failure: the next try computes again", async () => {
    const plans = new KeptPlans<string>(new FixedClock());
    expect(await plans.plan("$command", () => Promise.resolve(err("the homeserver did not answer")))).toEqual(err("the homeserver did not answer"));
    expect(await plans.plan("$command", () => Promise.resolve(ok("plan")))).toEqual(ok("plan"));
  });

  it("lets the run take the plan, kept or computed, and forget it: a run needs it once", async () => {
    const plans = new KeptPlans<string>(new FixedClock());
    const { compute } = counting();
    await plans.plan("$previewed", compute);

    expect(await plans.take("$previewed", compute)).toEqual(ok("plan 1"));
    expect(await plans.take("$with-yes", compute)).toEqual(ok("plan 2"));
    expect(plans.size()).toBe(0);
  });
});
