import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf } from "../../../scripts/harness/roomRecorder.js";
import { startScenario, type Scenario } from "../scenario.js";

/** The smallest age the config allows is a second; ten keeps a file uploaded just before the run safely younger than it. */
const AGE_MS = 10_000;
const POLICY = "media-e2e";

let scenario: Scenario;

beforeAll(async () => {
  // A media-only policy: its schedule (a day) never comes during the test; the moderator runs it.
  scenario = await startScenario({ extraConfig: { retention: [{ name: POLICY, every: "1d", media: { local: "10s", remote: "10s" } }] } });
});

afterAll(async () => {
  await scenario.stop();
});

/**
 * GET /_synapse/admin/v1/media/<server>/<id> with the bot's token: the homeserver's own record of
 * a file, read without downloading it (a download would count as a use and move the file's age).
 */
async function mediaInfo(mxc: string): Promise<{ status: number; createdTs?: number }> {
  const [server, mediaId] = mxc.replace(/^mxc:\/\//, "").split("/");
  const response = await fetch(`${scenario.synapse.baseUrl}/_synapse/admin/v1/media/${encodeURIComponent(server ?? "")}/${encodeURIComponent(mediaId ?? "")}`, {
    headers: { authorization: `Bearer ${scenario.admin.user.accessToken}` },
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { media_info?: { created_ts?: number } };
  const createdTs = body.media_info?.created_ts;
  return createdTs === undefined ? { status: response.status } : { status: response.status, createdTs };
}

/** Polls the clock: the condition is time itself, not a fixed sleep. */
async function untilTime(what: string, time: number): Promise<void> {
  const deadline = time + 60_000;
  while (Date.now() <= time) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function command(body: string): Promise<string> {
  const sent = await scenario.send(body);
  return bodyOf(await scenario.replyTo(sent.eventId, sent.mark, 60_000));
}

describe("a retention policy with media.local", () => {
  it("removes a local file older than its age, keeps a younger one, and its report says how many files went", { timeout: 180_000 }, async () => {
    const old = await scenario.spammer.uploadMedia(new TextEncoder().encode("an old upload"), "text/plain", "old.txt");
    const uploaded = await mediaInfo(old);
    expect(uploaded.status).toBe(200);
    await untilTime("the old file is older than the policy's age", (uploaded.createdTs ?? Date.now()) + AGE_MS + 1_000);
    const young = await scenario.spammer.uploadMedia(new TextEncoder().encode("a young upload"), "text/plain", "young.txt");

    // A dry run asks Synapse nothing: it gives the rule, and the old file stays.
    const dryRun = await command(`!retention run ${POLICY} --dry-run`);
    expect(dryRun).toContain(`Dry run of retention policy "${POLICY}": would delete old media, server-wide; Synapse gives no count in advance.`);
    expect((await mediaInfo(old)).status).toBe(200);

    const report = await command(`!retention run ${POLICY} --yes`);

    expect(report).toContain(`Retention policy "${POLICY}": media step done.`);
    expect(report).toMatch(/1 local file deleted \(last used before \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; profile pictures and room avatars kept\)/);
    expect(report).toContain("0 cached remote files dropped");
    expect((await mediaInfo(old)).status).toBe(404);
    expect((await scenario.spammer.downloadMedia(old)).status).toBe(404);
    expect((await mediaInfo(young)).status).toBe(200);
    expect(await scenario.spammer.downloadMedia(young)).toMatchObject({ status: 200, bytes: new TextEncoder().encode("a young upload") });

    const listed = await command("!retention");
    expect(listed).toMatch(/last media step [^:]+:\d\d:\d\d UTC: 1 local file deleted, 0 cached remote files dropped/);
  });
});
