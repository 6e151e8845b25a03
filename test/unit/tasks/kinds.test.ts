import { describe, expect, it } from "vitest";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { PURGE_ACTION, purgeHandler } from "../../../src/tasks/kinds/purge.js";
import { redactHandler } from "../../../src/tasks/kinds/redact.js";
import { SHUTDOWN_ACTION, shutdownHandler } from "../../../src/tasks/kinds/shutdown.js";
import { homeserverJobs, isDue } from "../../../src/tasks/homeserverJobs.js";
import type { TaskRecord } from "../../../src/tasks/types.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { HOMESERVER_URL, SynapseNock, useSynapseNock } from "../../fakes/synapseNock.js";

const ROOM = "!spam:example.org";
const ROOM_IN_PATH = "!spam%3Aexample.org";
const ROOM_IN_QUERY = "%21spam%3Aexample.org";
const REQUESTED_AT = FIXED_NOW;

function admin(): SynapseAdminClient {
  return new SynapseAdminClient({ homeserverUrl: HOMESERVER_URL, accessToken: "syt_kinds_test_token", sleep: () => Promise.resolve() });
}

function purgeTask(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return sampleTask({ kind: "purge", roomId: ROOM, status: "active", homeserverTaskId: "purge-1", createdAt: REQUESTED_AT, ...overrides });
}

function shutdownTask(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return sampleTask({ id: "s-0a1b2c", kind: "shutdown", roomId: ROOM, status: "active", homeserverTaskId: "delete-1", createdAt: REQUESTED_AT, ...overrides });
}

function job(id: string, action: string, timestampMs: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, action, status: "complete", timestamp_ms: timestampMs, resource_id: ROOM, result: null, error: null, ...extra };
}

useSynapseNock();

describe("purge handler", () => {
  it.each([
    [{ status: "active" }, { status: "active" }],
    [{ status: "complete" }, { status: "complete" }],
    [{ status: "failed", error: "database is locked" }, { status: "failed", reason: "database is locked" }],
    [{ status: "failed" }, { status: "failed", reason: "the homeserver gave no reason" }],
    [{ status: "failed", error: null }, { status: "failed", reason: "the homeserver gave no reason" }],
  ])("maps purge status %j to %j", async (body, observation) => {
    const synapse = new SynapseNock().ok("GET", body);

    const result = await purgeHandler(admin()).poll(purgeTask());

    expect(result).toEqual({ ok: true, value: observation });
    expect(synapse.seen.map((request) => [request.method, request.path])).toEqual([
      ["GET", "/_synapse/admin/v1/purge_history_status/purge-1"],
    ]);
  });

  it("passes a 404 on to the tracker (which ends the task as unknown)", async () => {
    new SynapseNock().answer("GET", { status: 404, json: { errcode: "M_NOT_FOUND", error: "Purge not found" } });

    const result = await purgeHandler(admin()).poll(purgeTask());

    expect(result).toMatchObject({ ok: false, error: { kind: "not-found", detail: "Purge not found" } });
  });

  it("reports unknown without asking when no job id was recorded", async () => {
    const synapse = new SynapseNock();

    const result = await purgeHandler(admin()).poll(purgeTask({ homeserverTaskId: undefined }));

    expect(result).toMatchObject({ ok: true, value: { status: "unknown" } });
    expect(synapse.seen).toEqual([]);
  });
});

describe("shutdown handler", () => {
  it("scheduled stays scheduled, and the block is not looked up yet", async () => {
    const synapse = new SynapseNock().ok("GET", { delete_id: "delete-1", status: "scheduled" });

    const result = await shutdownHandler(admin()).poll(shutdownTask({ status: "scheduled" }));

    expect(result).toEqual({ ok: true, value: { status: "scheduled" } });
    expect(synapse.seen.map((request) => request.path)).toEqual(["/_synapse/admin/v2/rooms/delete_status/delete-1"]);
  });

  it.each(["active", "purging", "shutting_down"])("%s reads as active", async (status) => {
    new SynapseNock().ok("GET", { delete_id: "delete-1", status });

    const result = await shutdownHandler(admin()).poll(shutdownTask({ status: "scheduled" }));

    expect(result).toEqual({ ok: true, value: { status: "active" } });
  });

  it("complete carries the shutdown_room outcome and whether the room is now blocked", async () => {
    const synapse = new SynapseNock()
      .ok("GET", {
        delete_id: "delete-1",
        status: "complete",
        shutdown_room: {
          kicked_users: ["@a:example.org", "@b:remote.example"],
          failed_to_kick_users: ["@c:example.org"],
          local_aliases: ["#spam:example.org"],
          new_room_id: "!notice:example.org",
        },
      })
      .ok("GET", { block: true, user_id: "@warden:example.org" });

    const result = await shutdownHandler(admin()).poll(shutdownTask());

    expect(result).toEqual({
      ok: true,
      value: {
        status: "complete",
        outcome: {
          kickedUsers: ["@a:example.org", "@b:remote.example"],
          failedToKickUsers: ["@c:example.org"],
          localAliases: ["#spam:example.org"],
          newRoomId: "!notice:example.org",
          blocked: true,
        },
      },
    });
    expect(synapse.seen.map((request) => request.path)).toEqual([
      "/_synapse/admin/v2/rooms/delete_status/delete-1",
      `/_synapse/admin/v1/rooms/${ROOM_IN_PATH}/block`,
    ]);
  });

  it("complete with an unreadable block status reports blocked as null", async () => {
    new SynapseNock()
      .ok("GET", { delete_id: "delete-1", status: "complete", shutdown_room: null })
      .answer("GET", { status: 403, json: { errcode: "M_FORBIDDEN", error: "nope" } });

    const result = await shutdownHandler(admin()).poll(shutdownTask());

    expect(result).toEqual({
      ok: true,
      value: { status: "complete", outcome: { kickedUsers: [], failedToKickUsers: [], localAliases: [], newRoomId: null, blocked: null } },
    });
  });

  it("failed: the reason comes from the scheduled_tasks entry of this delete", async () => {
    const synapse = new SynapseNock()
      .ok("GET", { delete_id: "delete-1", status: "failed" })
      .ok("GET", { block: false })
      .ok("GET", {
        scheduled_tasks: [
          job("delete-0", SHUTDOWN_ACTION, REQUESTED_AT - 3600_000, { status: "failed", error: "an older failure" }),
          job("delete-1", SHUTDOWN_ACTION, REQUESTED_AT + 1_000, { status: "failed", error: "Cannot purge room: still joined" }),
        ],
      });

    const result = await shutdownHandler(admin()).poll(shutdownTask());

    expect(result).toMatchObject({
      ok: true,
      value: { status: "failed", reason: "the homeserver says: Cannot purge room: still joined", outcome: { blocked: false } },
    });
    expect(synapse.seen.map((request) => request.path)).toEqual([
      "/_synapse/admin/v2/rooms/delete_status/delete-1",
      `/_synapse/admin/v1/rooms/${ROOM_IN_PATH}/block`,
      `/_synapse/admin/v1/scheduled_tasks?action_name=${SHUTDOWN_ACTION}&resource_id=${ROOM_IN_QUERY}`,
    ]);
  });

  it("failed with an error in delete_status itself uses that error", async () => {
    const synapse = new SynapseNock().ok("GET", { delete_id: "delete-1", status: "failed", error: "room is too big" }).ok("GET", { block: true });

    const result = await shutdownHandler(admin()).poll(shutdownTask());

    expect(result).toMatchObject({ ok: true, value: { status: "failed", reason: "room is too big" } });
    expect(synapse.seen).toHaveLength(2);
  });

  it("failed with no error anywhere: the no-reason sentence", async () => {
    new SynapseNock()
      .ok("GET", { delete_id: "delete-1", status: "failed" })
      .ok("GET", { block: true })
      .ok("GET", { scheduled_tasks: [job("delete-1", SHUTDOWN_ACTION, REQUESTED_AT + 1_000, { status: "failed", error: null })] });

    const result = await shutdownHandler(admin()).poll(shutdownTask());

    expect(result).toMatchObject({ ok: true, value: { status: "failed", outcome: { blocked: true } } });
    const reason = result.ok ? result.value.reason : undefined;
    expect(reason).toContain("gives no reason");
  });

  it("failed when scheduled_tasks cannot be read: the no-reason sentence", async () => {
    new SynapseNock()
      .ok("GET", { delete_id: "delete-1", status: "failed" })
      .ok("GET", { block: true })
      .answer("GET", { status: 403, json: { errcode: "M_FORBIDDEN", error: "no" } });

    const result = await shutdownHandler(admin()).poll(shutdownTask());

    const reason = result.ok ? result.value.reason : undefined;
    expect(reason).toContain("gives no reason");
  });

  it("cancelled ends as failed, saying so", async () => {
    new SynapseNock().ok("GET", { delete_id: "delete-1", status: "cancelled" }).ok("GET", { block: false });

    const result = await shutdownHandler(admin()).poll(shutdownTask());

    expect(result).toMatchObject({ ok: true, value: { status: "failed", reason: "the delete was cancelled on the homeserver" } });
  });
});

describe("homeserver jobs (the task queue the tracker reads)", () => {
  it("in flight: one request for active and scheduled jobs of every kind, job_status repeated", async () => {
    const synapse = new SynapseNock().ok("GET", {
      scheduled_tasks: [job("delete-1", SHUTDOWN_ACTION, REQUESTED_AT, { status: "active" }), job("purge-1", PURGE_ACTION, REQUESTED_AT + 1, { status: "scheduled", resource_id: null })],
    });

    const result = await homeserverJobs(admin(), { now: () => FIXED_NOW }).inFlight();

    expect(result).toEqual({
      ok: true,
      value: [
        { id: "delete-1", action: SHUTDOWN_ACTION, resourceId: ROOM, status: "active", timestampMs: REQUESTED_AT },
        { id: "purge-1", action: PURGE_ACTION, resourceId: undefined, status: "scheduled", timestampMs: REQUESTED_AT + 1 },
      ],
    });
    // Tasks scheduled more than an hour past Warden's clock (a forgotten room's purge a week ahead) are not read at every tick.
    expect(synapse.seen.map((request) => request.path)).toEqual([`/_synapse/admin/v1/scheduled_tasks?job_status=active&job_status=scheduled&max_timestamp=${FIXED_NOW + 3_600_000}`]);
  });

  it("a job takes a slot when it runs, or waits whose time has come; not one scheduled for later (a forgotten room's purge a week ahead)", () => {
    const job = (status: string, timestampMs: number) => ({ id: "j", action: "purge_room", resourceId: ROOM, status, timestampMs });
    expect(isDue(job("active", FIXED_NOW + 7 * 86_400_000), FIXED_NOW)).toBe(true);
    expect(isDue(job("scheduled", FIXED_NOW - 1), FIXED_NOW)).toBe(true);
    // A homeserver's clock a little ahead of Warden's: its own fresh jobs still count.
    expect(isDue(job("scheduled", FIXED_NOW + 2_000), FIXED_NOW)).toBe(true);
    expect(isDue(job("scheduled", FIXED_NOW + 2_001), FIXED_NOW)).toBe(false);
    expect(isDue(job("scheduled", FIXED_NOW + 7 * 86_400_000), FIXED_NOW)).toBe(false);
  });

  it("of one action and resource: every status, for recovery", async () => {
    const synapse = new SynapseNock().ok("GET", { scheduled_tasks: [] });

    await homeserverJobs(admin(), { now: () => FIXED_NOW }).of(PURGE_ACTION, ROOM);

    expect(synapse.seen.map((request) => request.path)).toEqual([`/_synapse/admin/v1/scheduled_tasks?action_name=${PURGE_ACTION}&resource_id=${ROOM_IN_QUERY}`]);
  });

  it("passes a failure on (a homeserver without the endpoint answers 404 M_UNRECOGNIZED)", async () => {
    new SynapseNock().answer("GET", { status: 404, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } });

    const result = await homeserverJobs(admin(), { now: () => FIXED_NOW }).inFlight();

    expect(result).toMatchObject({ ok: false, error: { kind: "not-found" } });
  });
});

describe("sending a lost submission again", () => {
  it("purge: the same point from the stored parameters (an event point by its event)", async () => {
    const synapse = new SynapseNock().ok("POST", { purge_id: "purge-2" });

    const sent = await purgeHandler(admin()).resubmit?.(
      purgeTask({ status: "submitting", parameters: { eventId: "$cut", cutoffTs: 5, cutoff: "x", deleteLocalEvents: true } }),
    );

    expect(sent).toEqual({ ok: true, value: "purge-2" });
    expect(synapse.seen.map((request) => [request.method, request.path, request.body])).toEqual([
      ["POST", `/_synapse/admin/v1/purge_history/${ROOM_IN_PATH}`, { delete_local_events: true, purge_up_to_event_id: "$cut" }],
    ]);
  });

  it("purge: a time point by its time; 'no event to be purged' reads as nothing to purge", async () => {
    const synapse = new SynapseNock().answer("POST", { status: 404, json: { errcode: "M_NOT_FOUND", error: "There is no event to be purged" } });

    const sent = await purgeHandler(admin()).resubmit?.(
      purgeTask({ status: "submitting", parameters: { cutoffTs: 1_700_000_000_000, cutoff: "2023-11-14 22:13:20 UTC", deleteLocalEvents: false } }),
    );

    expect(sent).toMatchObject({ ok: false, error: { userMessage: "nothing to purge: no event of this room was received before 2023-11-14 22:13:20 UTC" } });
    expect(synapse.seen.map((request) => request.body)).toEqual([{ delete_local_events: false, purge_up_to_ts: 1_700_000_000_000 }]);
  });

  it("purge: a task without its point (an older record) is not sent again", () => {
    expect(purgeHandler(admin()).resubmit?.(purgeTask({ status: "submitting", parameters: {} }))).toBeUndefined();
  });

  const deleteParameters = { block: true, purge: true, forcePurge: false, notifyAs: "@notice:example.org", newRoomName: "Closed", message: "Bye" };

  it("shutdown: the same delete from the stored parameters", async () => {
    const synapse = new SynapseNock().ok("DELETE", { delete_id: "delete-2" });

    const sent = await shutdownHandler(admin()).resubmit?.(shutdownTask({ status: "submitting", parameters: deleteParameters }));

    expect(sent).toEqual({ ok: true, value: "delete-2" });
    expect(synapse.seen.map((request) => [request.method, request.path, request.body])).toEqual([
      [
        "DELETE",
        `/_synapse/admin/v2/rooms/${ROOM_IN_PATH}`,
        { block: true, purge: true, force_purge: false, new_room_user_id: "@notice:example.org", room_name: "Closed", message: "Bye" },
      ],
    ]);
  });

  it("shutdown: refused because a delete of the room is running: follows that delete", async () => {
    const synapse = new SynapseNock()
      .answer("DELETE", { status: 400, json: { errcode: "M_UNKNOWN", error: `Purge already in progress for ${ROOM}` } })
      .ok("GET", { results: [{ delete_id: "delete-old", status: "complete" }, { delete_id: "delete-running", status: "purging" }] });

    const sent = await shutdownHandler(admin()).resubmit?.(shutdownTask({ status: "submitting", parameters: deleteParameters }));

    expect(sent).toEqual({ ok: true, value: "delete-running" });
    expect(synapse.seen.map((request) => request.path)).toEqual([`/_synapse/admin/v2/rooms/${ROOM_IN_PATH}`, `/_synapse/admin/v2/rooms/${ROOM_IN_PATH}/delete_status`]);
  });

  it("shutdown: refused for another reason: the refusal stands", async () => {
    new SynapseNock().answer("DELETE", { status: 400, json: { errcode: "M_INVALID_PARAM", error: "new_room_user_id is not local" } });

    const sent = await shutdownHandler(admin()).resubmit?.(shutdownTask({ status: "submitting", parameters: deleteParameters }));

    expect(sent).toMatchObject({ ok: false, error: { kind: "bad-request", detail: "new_room_user_id is not local" } });
  });

  it("redact: never sent again", () => {
    expect("resubmit" in redactHandler(admin())).toBe(false);
  });
});

describe("redact handler", () => {
  const USER = "@spam/mer:example.org";

  function redactTask(overrides: Partial<TaskRecord> = {}): TaskRecord {
    return sampleTask({ id: "r-0a1b2c", kind: "redact", roomId: USER, roomLabel: USER, status: "active", homeserverTaskId: "redact/1", createdAt: REQUESTED_AT, ...overrides });
  }

  it.each([
    [{ status: "scheduled" }, { status: "scheduled" }],
    [{ status: "active" }, { status: "active" }],
    // Synapse 1.163 says "complete"; its docs say "completed".
    [{ status: "complete", failed_redactions: {} }, { status: "complete", outcome: { failedRedactions: [] } }],
    [{ status: "completed", failed_redactions: {} }, { status: "complete", outcome: { failedRedactions: [] } }],
    [{ status: "complete" }, { status: "complete", outcome: { failedRedactions: [] } }],
    [{ status: "complete", failed_redactions: null }, { status: "complete", outcome: { failedRedactions: [] } }],
    [
      { status: "complete", failed_redactions: { "$a:example.org": "Not allowed", "$b:example.org": "Event not found" } },
      { status: "complete", outcome: { failedRedactions: ["$a:example.org: Not allowed", "$b:example.org: Event not found"] } },
    ],
    [{ status: "failed", error: "database is locked" }, { status: "failed", reason: "database is locked", outcome: { failedRedactions: [] } }],
    [{ status: "failed" }, { status: "failed", reason: "the homeserver gave no reason", outcome: { failedRedactions: [] } }],
  ])("maps redact status %j to %j", async (body, observation) => {
    const synapse = new SynapseNock().ok("GET", body);

    const result = await redactHandler(admin()).poll(redactTask());

    expect(result).toEqual({ ok: true, value: observation });
    expect(synapse.seen.map((request) => [request.method, request.path])).toEqual([["GET", "/_synapse/admin/v1/user/redact_status/redact%2F1"]]);
  });

  it("reads a status Synapse does not document as an unreadable answer, not as an ending", async () => {
    new SynapseNock().ok("GET", { status: "cancelled" });

    const result = await redactHandler(admin()).poll(redactTask());

    expect(result).toMatchObject({ ok: false, error: { kind: "bad-response" } });
  });

  it("passes a 404 on to the tracker (which ends the task as unknown) when the task list does not have the job either", async () => {
    const synapse = new SynapseNock()
      .answer("GET", { status: 404, json: { errcode: "M_NOT_FOUND", error: "redact id 'redact/1' not found" } })
      .ok("GET", { scheduled_tasks: [{ id: "redact/other", action: "redact_all_events", status: "complete", timestamp_ms: 1, resource_id: USER }] });

    const result = await redactHandler(admin()).poll(redactTask());

    expect(result).toMatchObject({ ok: false, error: { kind: "not-found" } });
    expect(synapse.seen.map((request) => request.path)).toEqual(["/_synapse/admin/v1/user/redact_status/redact%2F1", "/_synapse/admin/v1/scheduled_tasks?action_name=redact_all_events&resource_id=%40spam%2Fmer%3Aexample.org"]);
  });

  it("keeps the 404 when the task list cannot be read", async () => {
    new SynapseNock().answer("GET", { status: 404, json: { errcode: "M_NOT_FOUND" } }).answer("GET", { status: 404, json: { errcode: "M_UNRECOGNIZED" } });

    const result = await redactHandler(admin()).poll(redactTask());

    expect(result).toMatchObject({ ok: false, error: { kind: "not-found", errcode: "M_NOT_FOUND" } });
  });

  it.each([
    [{ status: "complete", result: { failed_redactions: { "$a:example.org": "Not allowed" } } }, { status: "complete", outcome: { failedRedactions: ["$a:example.org: Not allowed"] } }],
    [{ status: "complete", result: null }, { status: "complete", outcome: { failedRedactions: [] } }],
    [{ status: "complete", result: { failed_redactions: 3 } }, { status: "complete", outcome: { failedRedactions: [] } }],
    [{ status: "active" }, { status: "active" }],
    [{ status: "scheduled" }, { status: "scheduled" }],
    [{ status: "failed", error: "boom" }, { status: "failed", reason: "boom", outcome: { failedRedactions: [] } }],
    [{ status: "cancelled" }, { status: "failed", reason: "the homeserver's task list says cancelled", outcome: { failedRedactions: [] } }],
  ])("falls back to the task list when the status endpoint forgot the job (%j)", async (entry, observation) => {
    const synapse = new SynapseNock()
      .answer("GET", { status: 404, json: { errcode: "M_NOT_FOUND" } })
      .ok("GET", { scheduled_tasks: [{ id: "redact/1", action: "redact_all_events", timestamp_ms: 1, resource_id: USER, ...entry }] });

    const result = await redactHandler(admin()).poll(redactTask());

    expect(result).toEqual({ ok: true, value: observation });
    expect(synapse.seen[1]?.path).toBe("/_synapse/admin/v1/scheduled_tasks?action_name=redact_all_events&resource_id=%40spam%2Fmer%3Aexample.org");
  });

  it("reports unknown without asking when no job id was recorded", async () => {
    const synapse = new SynapseNock();

    const result = await redactHandler(admin()).poll(redactTask({ homeserverTaskId: undefined }));

    expect(result).toMatchObject({ ok: true, value: { status: "unknown" } });
    expect(synapse.seen).toEqual([]);
  });
});

describe("homeserver jobs: whether the in-flight list is whole", () => {
  const version = (current: string | undefined) => ({ current: () => current });

  it.each([
    ["1.163.2", true],
    ["1.170.0rc1", true],
    ["1.162.0", false],
    ["not a version", false],
    [undefined, false],
  ])("Synapse %s lists every job in flight: %s", (current, expected) => {
    expect(homeserverJobs(admin(), { now: () => FIXED_NOW }, version(current)).listsEveryStatus()).toBe(expected);
  });

  it("without a known version it counts as a homeserver that leaves jobs out", () => {
    expect(homeserverJobs(admin(), { now: () => FIXED_NOW }).listsEveryStatus()).toBe(false);
  });
});
