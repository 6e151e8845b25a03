import { MatrixClient, type ClientEvent } from "../../scripts/harness/client.js";
import { bodyOf, isEditOf, RoomRecorder } from "../../scripts/harness/roomRecorder.js";
import { startSynapse, type RegisteredUser, type RunningSynapse } from "../../scripts/harness/synapse.js";
import { startWardenProcess, type RunningWardenProcess } from "../../scripts/harness/warden.js";

/**
 * One real homeserver with Warden's accounts and rooms, shared by the tests of one file:
 * a server-admin bot account, an allowlisted moderator, an outsider in the management room
 * who is not allowlisted, and a local "spammer" whose rooms get purged and shut down.
 */
export interface Scenario {
  readonly synapse: RunningSynapse;
  readonly wardenUser: RegisteredUser;
  readonly moderatorUser: RegisteredUser;
  readonly moderator: MatrixClient;
  readonly outsider: MatrixClient;
  readonly spammer: MatrixClient;
  /** The bot's own token, used only to read effects through the admin API. */
  readonly admin: MatrixClient;
  readonly managementRoomId: string;
  readonly recorder: RoomRecorder;
  warden: RunningWardenProcess;
  /** `extraConfig` replaces the scenario's extra config from this start on (a retention policy naming rooms made by the test, say). */
  startWarden(dataDirectory?: string, extraConfig?: Record<string, unknown>): Promise<void>;
  /** Sends a command as `sender` (the moderator by default); returns its event ID and the recorder mark before it. */
  send(body: string, sender?: MatrixClient): Promise<{ eventId: string; mark: number }>;
  /** The first message from Warden that replies to `eventId`. */
  replyTo(eventId: string, mark: number, timeoutMs?: number): Promise<ClientEvent>;
  /** The final notification for a task (a message mentioning the requester that replies to the command). */
  finalFor(eventId: string, mark: number, timeoutMs?: number): Promise<ClientEvent>;
  editsOf(eventId: string): ClientEvent[];
  /** Waits for the first edit of a progress message: it follows the homeserver's acceptance of the job. */
  jobConfirmed(progressEventId: string, mark: number): Promise<ClientEvent>;
  /** Every log line Warden wrote in this scenario, over all its restarts. */
  allLogs(): string;
  stop(): Promise<void>;
}

/**
 * A purge point between "before" and "after": every event sent (and so received) before this
 * call lies before it, and it returns only once the clock has passed it, so every event sent
 * afterwards lies after it. Synapse compares points with reception times.
 */
export async function pointAfterNow(): Promise<number> {
  const point = Date.now() + 1;
  while (Date.now() <= point + 5) await new Promise((resolve) => setImmediate(resolve));
  return point;
}

export function repliesTo(event: ClientEvent, eventId: string): boolean {
  const relation = event.content["m.relates_to"];
  if (relation === null || typeof relation !== "object") return false;
  const inReplyTo = (relation as Record<string, unknown>)["m.in_reply_to"];
  return inReplyTo !== null && typeof inReplyTo === "object" && (inReplyTo as Record<string, unknown>)["event_id"] === eventId;
}

export function mentions(event: ClientEvent): readonly string[] {
  const value = event.content["m.mentions"];
  if (value === null || typeof value !== "object") return [];
  const ids = (value as Record<string, unknown>)["user_ids"];
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [];
}

export async function startScenario(
  options: {
    extraConfig?: Record<string, unknown>;
    synapse?: RunningSynapse;
    allowEveryLocalUser?: boolean;
    /** Where Warden reaches the homeserver, when not directly (a test proxy in between). */
    wardenHomeserverUrl?: string;
  } = {},
): Promise<Scenario> {
  const synapse = options.synapse ?? (await startSynapse());
  const wardenUser = await synapse.registerUser("warden", { admin: true });
  const moderatorUser = await synapse.registerUser("moderator");
  const moderator = new MatrixClient(synapse.baseUrl, moderatorUser);
  const outsider = new MatrixClient(synapse.baseUrl, await synapse.registerUser("outsider"));
  const spammer = new MatrixClient(synapse.baseUrl, await synapse.registerUser("spammer"));
  const admin = new MatrixClient(synapse.baseUrl, wardenUser);

  const managementRoomId = await moderator.createRoom({ name: "Warden management", preset: "private_chat" });
  await moderator.invite(managementRoomId, wardenUser.userId);
  await moderator.invite(managementRoomId, outsider.userId);
  await outsider.joinRoom(managementRoomId);

  const previousLogs: string[] = [];
  let extraConfig = options.extraConfig;
  const recorder = new RoomRecorder(moderator, managementRoomId);
  await recorder.start();

  const scenario: Scenario = {
    synapse,
    wardenUser,
    moderatorUser,
    moderator,
    outsider,
    spammer,
    admin,
    managementRoomId,
    recorder,
    warden: undefined as unknown as RunningWardenProcess,
    allLogs: () => previousLogs.join("\n") + scenario.warden.logs(),
    async startWarden(dataDirectory, replacedConfig) {
      if (replacedConfig !== undefined) extraConfig = replacedConfig;
      const mark = recorder.mark();
      if ((scenario.warden as RunningWardenProcess | undefined) !== undefined) previousLogs.push(scenario.warden.logs());
      scenario.warden = startWardenProcess({
        homeserverUrl: options.wardenHomeserverUrl ?? synapse.baseUrl,
        accessToken: wardenUser.accessToken,
        managementRoom: managementRoomId,
        allowlist: options.allowEveryLocalUser === true ? [`@*:${synapse.serverName}`] : [moderatorUser.userId],
        ...(dataDirectory === undefined ? {} : { dataDirectory }),
        ...(extraConfig === undefined ? {} : { extraConfig }),
      });
      const exited = scenario.warden.exited.then((code) => {
        throw new Error(`Warden exited (code ${String(code)}) before it was ready:\n${scenario.warden.logs()}`);
      });
      const ready = recorder.waitFor((event) => event.sender === wardenUser.userId && bodyOf(event).includes("is ready"), {
        from: mark,
        timeoutMs: 60_000,
        what: "saying Warden is ready",
      });
      await Promise.race([ready, exited]);
    },
    async send(body, sender = moderator) {
      const mark = recorder.mark();
      const eventId = await sender.sendText(managementRoomId, body);
      return { eventId, mark };
    },
    replyTo(eventId, mark, timeoutMs = 30_000) {
      return recorder.waitFor((event) => event.sender === wardenUser.userId && repliesTo(event, eventId), {
        from: mark,
        timeoutMs,
        what: `replying to ${eventId}`,
      });
    },
    finalFor(eventId, mark, timeoutMs = 120_000) {
      return recorder.waitFor(
        (event) => event.sender === wardenUser.userId && repliesTo(event, eventId) && mentions(event).length > 0,
        { from: mark, timeoutMs, what: `ending the task of ${eventId}` },
      );
    },
    editsOf(eventId) {
      return recorder.events.filter((event) => isEditOf(event, eventId));
    },
    jobConfirmed(progressEventId, mark) {
      return recorder.waitFor((event) => isEditOf(event, progressEventId), { from: mark, what: `editing ${progressEventId}` });
    },
    async stop() {
      await recorder.stop();
      await scenario.warden.stop();
      await synapse.stop();
      // Whatever the tests did, Warden's token must appear in no log line and no message.
      const leaks = [scenario.allLogs(), ...recorder.events.map((event) => JSON.stringify(event.content))].filter((text) =>
        text.includes(wardenUser.accessToken),
      );
      if (leaks.length > 0) throw new Error(`Warden's access token leaked into ${String(leaks.length)} log(s) or message(s)`);
    },
  };
  await scenario.startWarden();
  return scenario;
}
