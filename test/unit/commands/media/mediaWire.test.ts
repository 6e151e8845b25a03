import { describe, expect, it } from "vitest";
import { mediaCommand } from "../../../../src/commands/media/media.js";
import { protectCommand } from "../../../../src/commands/media/protect.js";
import { quarantineCommand } from "../../../../src/commands/media/quarantine.js";
import { MEDIA_NOT_SERVED, SynapseAdminClient } from "../../../../src/synapse/adminClient.js";
import { commandFakes } from "../../../fakes/commandDependencies.js";
import { MemoryLogger } from "../../../fakes/memoryLogger.js";
import { runCommand } from "../../../fakes/runCommand.js";
import { HOMESERVER_URL, SynapseNock, useSynapseNock } from "../../../fakes/synapseNock.js";

/** The commands on the real admin client, against Synapse's answers as they come over the wire. */

const INFO = {
  media_info: {
    media_origin: null,
    user_id: "@spammer:example.org",
    media_id: "AbC",
    media_type: "image/png",
    media_length: 67,
    upload_name: "x.png",
    created_ts: 1_700_000_000_000,
    filesystem_id: null,
    url_cache: null,
    last_access_ts: null,
    quarantined_by: null,
    authenticated: true,
    safe_from_quarantine: false,
    sha256: "ab12",
  },
};

/** The command table's dependencies with the real admin client in place of the fake. */
function dependencies() {
  const log = new MemoryLogger();
  const admin = new SynapseAdminClient({ homeserverUrl: HOMESERVER_URL, accessToken: "syt_wire", sleep: () => Promise.resolve() });
  return { log, dependencies: { ...commandFakes().dependencies, admin, log: log.log } };
}

function calls(synapse: SynapseNock): string[] {
  return synapse.seen.map((request) => `${request.method} ${request.path}`);
}

useSynapseNock();

describe("the media commands over the wire", () => {
  it("!media <room>: reads the room list, then each file's info, and on M_UNRECOGNIZED lists URIs only with the worker's words", async () => {
    const synapse = new SynapseNock()
      .ok("GET", { local: ["mxc://example.org/one", "mxc://example.org/two"], remote: [] })
      .answer("GET", { status: 405, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } }, { status: 405, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } });
    const { dependencies: deps } = dependencies();

    const outcome = await runCommand(mediaCommand(deps), "!spam:example.org");

    expect(outcome).toMatchObject({ kind: "media-room", local: 2, size: { read: false, why: MEDIA_NOT_SERVED } });
    // The list first; the files' info is read a few at a time, so in either order.
    const [list, ...infos] = calls(synapse);
    expect(list).toBe("GET /_synapse/admin/v1/room/!spam%3Aexample.org/media");
    expect(infos.sort()).toEqual(["GET /_synapse/admin/v1/media/example.org/one", "GET /_synapse/admin/v1/media/example.org/two"]);
  });

  it("!quarantine <mxc>: reads the file, then posts its quarantine, and logs what it changed", async () => {
    const synapse = new SynapseNock().ok("GET", INFO).ok("POST", {});
    const { log, dependencies: deps } = dependencies();

    const outcome = await runCommand(quarantineCommand(deps), "mxc://example.org/AbC");

    expect(calls(synapse)).toEqual(["GET /_synapse/admin/v1/media/example.org/AbC", "POST /_synapse/admin/v1/media/quarantine/example.org/AbC"]);
    expect(outcome).toMatchObject({ kind: "media-action", entries: [{ result: { status: "done" } }] });
    expect(log.withMessage("media changed")).toEqual([expect.objectContaining({ action: "quarantine", kind: "file", target: "mxc://example.org/AbC", requester: "@mod:example.org" })]);
  });

  it("!quarantine <room>: Synapse's num_quarantined is the count", async () => {
    const synapse = new SynapseNock().ok("GET", { room_id: "!r:example.org", name: "R", joined_members: 2, joined_local_members: 1 }).ok("POST", { num_quarantined: 7 });
    const { dependencies: deps } = dependencies();
    const outcome = await runCommand(quarantineCommand(deps), "!r:example.org");
    expect(calls(synapse)).toEqual(["GET /_synapse/admin/v1/rooms/!r%3Aexample.org", "POST /_synapse/admin/v1/room/!r%3Aexample.org/media/quarantine"]);
    expect(outcome).toMatchObject({ entries: [{ result: { status: "done", count: 7 } }] });
  });

  it("takes Synapse's 404 Unknown media as a file it does not hold, and its 404 M_UNRECOGNIZED as a process that does not serve media", async () => {
    new SynapseNock()
      .answer("GET", { status: 404, json: { errcode: "M_NOT_FOUND", error: "Unknown media" } })
      .answer("GET", { status: 404, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } });
    const { dependencies: deps } = dependencies();
    const quarantine = quarantineCommand(deps);

    expect(await runCommand(quarantine, "mxc://remote.example/never")).toMatchObject({
      kind: "media-action",
      entries: [{ result: { status: "unchanged", unchanged: { why: "no-such-file", remote: true } } }],
    });
    expect(await runCommand(quarantine, "mxc://example.org/AbC")).toEqual({ kind: "refused", reason: `could not look up mxc://example.org/AbC, so nothing was changed: ${MEDIA_NOT_SERVED}` });
  });

  it("!protect <mxc>: reads the file, then posts protect with its media id alone", async () => {
    const synapse = new SynapseNock().ok("GET", INFO).ok("POST", {});
    const { dependencies: deps } = dependencies();
    await runCommand(protectCommand(deps), "mxc://example.org/AbC");
    expect(calls(synapse)).toEqual(["GET /_synapse/admin/v1/media/example.org/AbC", "POST /_synapse/admin/v1/media/protect/AbC"]);
  });
});
