import { describe, expect, it } from "vitest";
import { chooseOwnJob, CLOCK_SLACK_MS } from "../../../src/tasks/recovery.js";

const SUBMITTED = 1_700_000_000_000;
const WANTED = { action: "purge_history", resourceId: "!room:example.org", submittedAt: SUBMITTED };

function job(id: string, timestampMs: number) {
  return { id, action: "purge_history", resourceId: "!room:example.org", status: "active", timestampMs };
}

describe("chooseOwnJob: the clock slack", () => {
  it("is two seconds", () => {
    expect(CLOCK_SLACK_MS).toBe(2_000);
  });

  it("adopts a job stamped a little before the request left, within the slack for the homeserver's clock", () => {
    expect(chooseOwnJob([job("A", SUBMITTED - 1_000)], WANTED, new Set())).toEqual({ kind: "found", jobId: "A" });
  });

  it("adopts a job stamped exactly at the edge of the slack", () => {
    expect(chooseOwnJob([job("A", SUBMITTED - CLOCK_SLACK_MS)], WANTED, new Set())).toEqual({ kind: "found", jobId: "A" });
  });

  it("never a job stamped one millisecond before the slack begins", () => {
    expect(chooseOwnJob([job("A", SUBMITTED - CLOCK_SLACK_MS - 1)], WANTED, new Set())).toEqual({ kind: "none" });
  });

  it("adopts the only job when there is exactly one", () => {
    expect(chooseOwnJob([job("A", SUBMITTED + 10)], WANTED, new Set(["B"]))).toEqual({ kind: "found", jobId: "A" });
  });
});
