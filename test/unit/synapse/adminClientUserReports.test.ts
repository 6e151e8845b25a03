import { describe, expect, it } from "vitest";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { unsupportedAnswer } from "../../../src/synapse/features.js";
import { queryOf, SynapseNock, useSynapseNock, waitRecordingClient } from "../../fakes/synapseNock.js";

// The user report endpoints (Synapse ≥ 1.152) as the report poller and the desk use them:
// the list read entry by entry, one report, its deletion, and an older Synapse's answer.

const BROKEN = { status: 502, json: { errcode: "M_UNKNOWN", error: "Bad gateway" } } as const;
const UNRECOGNIZED = { status: 404, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } } as const;

function client(): { admin: SynapseAdminClient; waits: number[] } {
  return waitRecordingClient("syt_user_reports_token");
}

const query = queryOf;

const entry = (id: number, more: Record<string, unknown> = {}) => ({ id, received_ts: 1000 + id, target_user_id: "@bad:x", user_id: "@rep:x", reason: "abuse", ...more });

useSynapseNock();

describe("SynapseAdminClient.userReports", () => {
  it("asks GET /_synapse/admin/v1/user_reports with every filter under Synapse's parameter names", async () => {
    const synapse = new SynapseNock().ok("GET", { user_reports: [entry(3)], total: 9, next_token: 41 });

    const result = await client().admin.userReports({ from: 40, limit: 1, direction: "b", target: "@bad:x", reporter: "@rep:x" });

    expect(result).toEqual({ ok: true, value: { user_reports: [entry(3)], total: 9, next_token: 41, unreadable: [] } });
    expect(synapse.seen.map((request) => [request.method, request.path.split("?")[0]])).toEqual([["GET", "/_synapse/admin/v1/user_reports"]]);
    expect(query(synapse.seen[0]?.path ?? "")).toEqual({ from: "40", limit: "1", dir: "b", target_user_id: "@bad:x", user_id: "@rep:x" });
  });

  it("sends no filter it was not given, and asks again after a 5xx", async () => {
    const synapse = new SynapseNock().answer("GET", BROKEN, { status: 200, json: { user_reports: [], total: 0 } });
    const { admin, waits } = client();

    expect(await admin.userReports()).toEqual({ ok: true, value: { user_reports: [], total: 0, unreadable: [] } });
    expect(synapse.seen.map((request) => request.path)).toEqual(["/_synapse/admin/v1/user_reports", "/_synapse/admin/v1/user_reports"]);
    expect(waits).toHaveLength(1);
  });

  it("sets aside an entry it cannot read, with its place, its id if any and what was wrong, and reads the rest", async () => {
    new SynapseNock().ok("GET", { user_reports: [entry(1), entry(2, { target_user_id: 42 }), entry(3, { reason: null }), "odd", entry(5, { id: 5.5 })], total: 5 });

    const result = await client().admin.userReports();

    expect(result).toEqual({
      ok: true,
      value: {
        user_reports: [entry(1), entry(3, { reason: null })],
        total: 5,
        unreadable: [
          { position: 1, id: 2, problem: "target_user_id: Invalid input: expected string, received number", fields: '[2,1002,42,"@rep:x"]' },
          { position: 3, problem: "the entry: Invalid input: expected object, received string", fields: "[null,null,null,null]" },
          { position: 4, problem: "id: Invalid input: expected int, received number", fields: '[5.5,1005,"@bad:x","@rep:x"]' },
        ],
      },
    });
  });

  it("still refuses a page whose own shape is wrong", async () => {
    new SynapseNock().ok("GET", { user_reports: {}, total: "many" });

    expect(await client().admin.userReports()).toMatchObject({ ok: false, error: { kind: "bad-response", detail: expect.stringContaining("user_reports, total") as unknown } });
  });

  it("answers an older Synapse's 404 M_UNRECOGNIZED as not-found, which unsupportedAnswer tells from a missing report", async () => {
    new SynapseNock().answer("GET", UNRECOGNIZED, { status: 404, json: { errcode: "M_NOT_FOUND", error: "User report not found" } });
    const { admin } = client();

    const missingEndpoint = await admin.userReports();
    const missingReport = await admin.userReport(7);

    expect(missingEndpoint).toMatchObject({ ok: false, error: { kind: "not-found", errcode: "M_UNRECOGNIZED" } });
    expect(!missingEndpoint.ok && unsupportedAnswer(missingEndpoint.error)).toBe(true);
    expect(missingReport).toMatchObject({ ok: false, error: { kind: "not-found", errcode: "M_NOT_FOUND" } });
    expect(!missingReport.ok && unsupportedAnswer(missingReport.error)).toBe(false);
  });
});

describe("SynapseAdminClient.userReport", () => {
  it("asks GET /_synapse/admin/v1/user_reports/<id>", async () => {
    const synapse = new SynapseNock().ok("GET", entry(17));

    expect(await client().admin.userReport(17)).toEqual({ ok: true, value: entry(17) });
    expect(synapse.seen.map((request) => [request.method, request.path])).toEqual([["GET", "/_synapse/admin/v1/user_reports/17"]]);
  });

  it("asks again after a 5xx: reading a report is harmless to repeat", async () => {
    const synapse = new SynapseNock().answer("GET", BROKEN, { status: 200, json: entry(17) });

    expect((await client().admin.userReport(17)).ok).toBe(true);
    expect(synapse.seen).toHaveLength(2);
  });
});

describe("SynapseAdminClient.deleteUserReport", () => {
  it("sends DELETE /_synapse/admin/v1/user_reports/<id>, and again after a 5xx", async () => {
    const synapse = new SynapseNock().answer("DELETE", BROKEN, { status: 200, json: {} });

    expect(await client().admin.deleteUserReport(17)).toEqual({ ok: true, value: {} });
    expect(synapse.seen.map((request) => [request.method, request.path])).toEqual([
      ["DELETE", "/_synapse/admin/v1/user_reports/17"],
      ["DELETE", "/_synapse/admin/v1/user_reports/17"],
    ]);
  });

  it("answers not-found for a report already deleted", async () => {
    new SynapseNock().answer("DELETE", { status: 404, json: { errcode: "M_NOT_FOUND", error: "User report not found" } });

    expect(await client().admin.deleteUserReport(17)).toMatchObject({ ok: false, error: { kind: "not-found" } });
  });
});
