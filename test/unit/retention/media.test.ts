import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config.js";
import { planMedia, runMediaStep } from "../../../src/retention/media.js";
import { MEDIA_NOT_SERVED, SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { err, ok } from "../../../src/util/result.js";
import { FixedClock, FIXED_NOW } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { HOMESERVER_URL, SynapseNock, useSynapseNock } from "../../fakes/synapseNock.js";

const D = 86_400_000;
const PLAN = { local: FIXED_NOW - 365 * D, remote: FIXED_NOW - 30 * D, keepProfiles: true, sizeOver: 0 };

function client(requestTimeoutMs?: number): SynapseAdminClient {
  return new SynapseAdminClient({ homeserverUrl: HOMESERVER_URL, accessToken: "syt_token", sleep: () => Promise.resolve(), ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }) });
}

useSynapseNock();

describe("planMedia", () => {
  it("deletes before now minus each age, and passes the local rules on", () => {
    expect(planMedia({ local: { ms: 365 * D, text: "365d" }, remote: { ms: 30 * D, text: "30d" }, keepProfiles: false, sizeOver: 1024 }, FIXED_NOW)).toEqual({
      local: FIXED_NOW - 365 * D,
      remote: FIXED_NOW - 30 * D,
      keepProfiles: false,
      sizeOver: 1024,
    });
    expect(planMedia({ remote: { ms: 30 * D, text: "30d" }, keepProfiles: true, sizeOver: 0 }, FIXED_NOW)).toEqual({ remote: FIXED_NOW - 30 * D, keepProfiles: true, sizeOver: 0 });
  });

  it("never asks with a before_ts Synapse would read as seconds, even with the longest age the config allows", () => {
    const loaded = parseConfig(
      {
        homeserverUrl: "https://matrix.example.org",
        accessToken: "t",
        managementRoom: "!m:example.org",
        allowlist: ["@mod:example.org"],
        retention: [{ name: "media", every: "1d", media: { local: "3650d", remote: "3650d" } }],
      },
      "warden.yaml",
      {},
    );
    const media = loaded.ok ? loaded.value.retention[0]?.media : undefined;
    expect(media).toBeDefined();
    // A clock set to 1990: ten years back is still far above Synapse's 30,000,000,000 (Dec 1970 in ms).
    const plan = planMedia(media ?? { keepProfiles: true, sizeOver: 0 }, Date.UTC(1990, 0, 1));
    expect(plan.local).toBeGreaterThanOrEqual(30_000_000_000);
    expect(plan.remote).toBeGreaterThanOrEqual(30_000_000_000);
  });
});

describe("runMediaStep", () => {
  it("deletes local media with the time, size and profile rule, then purges the remote cache, and counts the files each call removed", async () => {
    const synapse = new SynapseNock().ok("POST", { deleted_media: ["a", "b", "c"], total: 3 }).ok("POST", { deleted: 7 });
    const logger = new MemoryLogger();

    const run = await runMediaStep(client(), { ...PLAN, keepProfiles: false, sizeOver: 4096 }, new FixedClock(), logger.log, "old-history");

    expect(synapse.seen.map((request) => [request.method, request.path])).toEqual([
      ["POST", `/_synapse/admin/v1/media/delete?before_ts=${PLAN.local}&size_gt=4096&keep_profiles=false`],
      ["POST", `/_synapse/admin/v1/purge_media_cache?before_ts=${PLAN.remote}`],
    ]);
    expect(run).toEqual({
      at: FIXED_NOW,
      local: { beforeTs: PLAN.local, files: ok(3) },
      remote: { beforeTs: PLAN.remote, files: ok(7) },
      keepProfiles: false,
      sizeOver: 4096,
    });
    // The deleted ids go to the log, where a complaint about a missing file can be traced.
    expect(logger.withMessage("retention deleted old local media")[0]).toMatchObject({ policy: "old-history", files: 3, mediaIds: ["a", "b", "c"], idsLeftOut: 0 });
  });

  it("logs the first hundred deleted ids and how many more there were: a first run may delete a hundred thousand", async () => {
    const ids = Array.from({ length: 150 }, (_, index) => `m${index}`);
    new SynapseNock().ok("POST", { deleted_media: ids, total: 150 });
    const logger = new MemoryLogger();

    const run = await runMediaStep(client(), { local: PLAN.local, keepProfiles: true, sizeOver: 0 }, new FixedClock(), logger.log, "old-history");

    expect(run.local?.files).toEqual(ok(150));
    expect(logger.withMessage("retention deleted old local media")[0]).toMatchObject({ files: 150, mediaIds: ids.slice(0, 100), idsLeftOut: 50 });
  });

  it("asks only for the parts the policy has", async () => {
    const synapse = new SynapseNock().ok("POST", { deleted: 0 });

    const run = await runMediaStep(client(), { remote: PLAN.remote, keepProfiles: true, sizeOver: 0 }, new FixedClock(), new MemoryLogger().log, "cache");

    expect(synapse.seen.map((request) => request.path)).toEqual([`/_synapse/admin/v1/purge_media_cache?before_ts=${PLAN.remote}`]);
    expect(run).toEqual({ at: FIXED_NOW, remote: { beforeTs: PLAN.remote, files: ok(0) }, keepProfiles: true, sizeOver: 0 });
  });

  it("reports a 500 with Synapse's words, sends it once (a delete is not resent blindly), and still purges the remote cache", async () => {
    const synapse = new SynapseNock()
      .answer("POST", { status: 500, json: { errcode: "M_UNKNOWN", error: "Internal server error" } })
      .ok("POST", { deleted: 2 });

    const run = await runMediaStep(client(), PLAN, new FixedClock(), new MemoryLogger().log, "old-history");

    expect(synapse.seen).toHaveLength(2);
    expect(run.local).toEqual({ beforeTs: PLAN.local, files: err("the homeserver failed with HTTP 500: Internal server error") });
    expect(run.remote).toEqual({ beforeTs: PLAN.remote, files: ok(2) });
  });

  it("names the media worker when the process that answered does not serve the media admin API", async () => {
    new SynapseNock()
      .answer("POST", { status: 404, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } })
      .answer("POST", { status: 404, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } });

    const run = await runMediaStep(client(), PLAN, new FixedClock(), new MemoryLogger().log, "old-history");

    expect(run.local?.files).toEqual(err(MEDIA_NOT_SERVED));
    expect(run.remote?.files).toEqual(err(MEDIA_NOT_SERVED));
  });

  it("says after a timeout that Synapse may still be deleting, and that the next run goes on from there", async () => {
    new SynapseNock().answer("POST", { hang: true });

    const run = await runMediaStep(client(20), { local: PLAN.local, keepProfiles: true, sizeOver: 0 }, new FixedClock(), new MemoryLogger().log, "old-history");

    expect(run.local?.files).toEqual(err("the homeserver did not answer in time: Synapse may still be deleting; the next run deletes what is left and counts only that"));
  });
});
