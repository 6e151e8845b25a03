import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { StoreType } from "@matrix-org/matrix-sdk-crypto-nodejs";
import type { MatrixClient } from "matrix-bot-sdk";
import { err, ok, type Result } from "../util/result.js";
import { scrubSecrets } from "../log.js";
import { RECORD_KEY, type ChatSender, type OutgoingMessage, type RoomDirectory, type SendOptions } from "./chat.js";
import { prepareCrypto, type CryptoAvailability } from "./crypto.js";
import { asRoomId, type RoomAlias, type RoomId } from "./ids.js";
import type { SyncStorage } from "../store/syncState.js";

export interface MatrixEvent {
  readonly roomId: string;
  readonly eventId: string;
  readonly sender: string;
  readonly type: string;
  readonly content: unknown;
  readonly originServerTs: number;
}

const MAX_RATE_LIMIT_RETRIES = 5;
/**
 * StoreType.Sqlite. The enum lives in the native crypto module, which may be the empty
 * stand-in, so its value is spelled out rather than read from the module.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- see above
const SQLITE_STORE = 0 as StoreType;

/**
 * The only module that knows matrix-bot-sdk. It offers the small interfaces the rest of
 * Warden uses (ChatSender, RoomDirectory) plus start-up helpers, and keeps SDK errors from
 * leaking out as exceptions.
 */
export class BotClient implements ChatSender, RoomDirectory {
  private encryptedRooms = new Set<string>();

  private constructor(
    private readonly client: MatrixClient,
    readonly crypto: CryptoAvailability,
    private readonly log: Logger,
    private readonly sleep: (milliseconds: number) => Promise<void>,
    private readonly secrets: readonly string[],
  ) {}

  /**
   * The one place an SDK failure becomes text. SDK errors carry the whole request, and a server
   * or proxy may echo it, token included, in its error text; every error string that leaves
   * this class (to the log, the room, or stderr at start-up) passes through here.
   */
  private explain(error: unknown): string {
    return scrubSecrets(describeSdkError(error), this.secrets);
  }

  static async create(options: {
    homeserverUrl: string;
    accessToken: string;
    storage: SyncStorage;
    dataDirectory: string;
    log: Logger;
    /** Injected by tests so a 429's wait is recorded rather than slept. */
    sleep?: (milliseconds: number) => Promise<void>;
  }): Promise<BotClient> {
    const crypto = prepareCrypto();
    // Imported only now: prepareCrypto must run before the SDK's first require of the crypto module.
    const sdk = await import("matrix-bot-sdk");
    const secrets = [options.accessToken];
    sdk.LogService.setLogger(new SdkLogBridge(options.log, secrets));
    sdk.LogService.setLevel(sdk.LogLevel.WARN);
    const cryptoStore = crypto.available
      ? new sdk.RustSdkCryptoStorageProvider(`${options.dataDirectory}/crypto`, SQLITE_STORE)
      : undefined;
    const client = new sdk.MatrixClient(options.homeserverUrl, options.accessToken, options.storage, cryptoStore);
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    return new BotClient(client, crypto, options.log, sleep, secrets);
  }

  async whoAmI(): Promise<Result<{ userId: string; deviceId?: string }, string>> {
    try {
      const who = await this.client.getWhoAmI();
      return ok({ userId: who.user_id, ...(who.device_id === undefined ? {} : { deviceId: who.device_id }) });
    } catch (error) {
      return err(this.explain(error));
    }
  }

  async join(room: RoomId | RoomAlias): Promise<Result<RoomId, string>> {
    try {
      const joined = await this.client.joinRoom(room);
      const roomId = asRoomId(joined);
      return roomId === undefined ? err(`the homeserver answered the join with ${joined}`) : ok(roomId);
    } catch (error) {
      return err(this.explain(error));
    }
  }

  async isEncrypted(roomId: RoomId): Promise<Result<boolean, string>> {
    try {
      await this.client.getRoomStateEvent(roomId, "m.room.encryption", "");
      this.encryptedRooms.add(roomId);
      return ok(true);
    } catch (error) {
      if (errcodeOf(error) === "M_NOT_FOUND") return ok(false);
      return err(this.explain(error));
    }
  }

  /** A state event's content, or undefined when the room has none of that type. */
  async stateContent(roomId: RoomId, type: string): Promise<Result<Record<string, unknown> | undefined, string>> {
    try {
      const content: unknown = await this.client.getRoomStateEvent(roomId, type, "");
      return ok(content !== null && typeof content === "object" ? (content as Record<string, unknown>) : undefined);
    } catch (error) {
      if (errcodeOf(error) === "M_NOT_FOUND") return ok(undefined);
      return err(this.explain(error));
    }
  }

  /** m.reaction events (any room the sync includes); the caller filters. */
  onReaction(handler: (event: MatrixEvent) => void): void {
    this.client.on("room.event", (roomId: string, raw: unknown) => {
      const event = readEvent(roomId, raw);
      if (event?.type === "m.reaction") handler(event);
    });
  }

  /** State events (any room the sync includes); the caller filters. */
  onStateEvent(handler: (event: MatrixEvent) => void): void {
    this.client.on("room.event", (roomId: string, raw: unknown) => {
      if (raw !== null && typeof raw === "object" && "state_key" in raw) {
        const event = readEvent(roomId, raw);
        if (event !== undefined) handler(event);
      }
    });
  }

  async prepareEncryption(roomIds: readonly RoomId[]): Promise<void> {
    if (this.crypto.available) await this.client.crypto.prepare([...roomIds]);
  }

  async resolveAlias(alias: RoomAlias): Promise<Result<RoomId, string>> {
    try {
      const resolved = asRoomId(await this.client.resolveRoom(alias));
      return resolved === undefined ? err("the directory returned something that is not a room ID") : ok(resolved);
    } catch (error) {
      return err(errcodeOf(error) === "M_NOT_FOUND" ? "no room has that alias" : this.explain(error));
    }
  }

  send(roomId: RoomId, message: OutgoingMessage, options: SendOptions = {}): Promise<Result<string, string>> {
    return this.sendContent(roomId, toContent(message, options.replyTo), options.transactionId);
  }

  edit(roomId: RoomId, eventId: string, message: OutgoingMessage): Promise<Result<string, string>> {
    const replacement = toContent(message, undefined);
    return this.sendContent(roomId, {
      ...replacement,
      body: `* ${message.plain}`,
      formatted_body: `* ${message.html}`,
      "m.new_content": replacement,
      "m.relates_to": { rel_type: "m.replace", event_id: eventId },
    });
  }

  onMessage(handler: (event: MatrixEvent) => void): void {
    this.client.on("room.message", (roomId: string, raw: unknown) => {
      const event = readEvent(roomId, raw);
      if (event !== undefined) handler(event);
    });
  }

  async start(managementRoomId: RoomId): Promise<void> {
    // Only the management room matters; the filter keeps every other room out of the sync.
    try {
      await this.client.start({
        presence: { not_types: ["*"] },
        account_data: { not_types: ["*"] },
        room: {
          rooms: [managementRoomId],
          timeline: { limit: 50 },
          ephemeral: { not_types: ["*"] },
          account_data: { not_types: ["*"] },
        },
      });
    } catch (error) {
      // Thrown on to the start-up, which prints it to stderr: only scrubbed text goes, and no
      // cause, which would carry the SDK's request with its token.
      // eslint-disable-next-line preserve-caught-error -- see above
      throw new Error(`could not start syncing: ${this.explain(error)}`);
    }
  }

  stop(): void {
    this.client.stop();
  }

  /** Sends with our own transaction id (so a crash-and-resend is deduplicated) and honours 429s. */
  private async sendContent(roomId: RoomId, content: Record<string, unknown>, transactionId?: string): Promise<Result<string, string>> {
    const txnId = transactionId ?? `warden-${randomBytes(8).toString("hex")}`;
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.crypto.available && this.encryptedRooms.has(roomId)) {
          return ok(await this.client.sendEvent(roomId, "m.room.message", content));
        }
        const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(txnId)}`;
        const response: unknown = await this.client.doRequest("PUT", path, null, content);
        const eventId = typeof response === "object" && response !== null ? (response as { event_id?: unknown }).event_id : undefined;
        return typeof eventId === "string" ? ok(eventId) : err("the homeserver did not return an event ID");
      } catch (error) {
        const wait = retryAfterOf(error);
        if (wait !== undefined && attempt < MAX_RATE_LIMIT_RETRIES) {
          this.log.warn({ roomId, waitMs: wait }, "rate-limited while sending; waiting");
          await this.sleep(wait);
          continue;
        }
        return err(this.explain(error));
      }
    }
  }
}

function toContent(message: OutgoingMessage, replyTo: string | undefined): Record<string, unknown> {
  const notify = message.mentions !== undefined && message.mentions.length > 0;
  return {
    // m.notice is silenced by the default push rules; a message that must notify is m.text.
    msgtype: notify ? "m.text" : "m.notice",
    body: message.plain,
    format: "org.matrix.custom.html",
    formatted_body: message.html,
    "m.mentions": { user_ids: notify ? [...(message.mentions ?? [])] : [] },
    ...(message.record === undefined ? {} : { [RECORD_KEY]: message.record }),
    ...(replyTo === undefined ? {} : { "m.relates_to": { "m.in_reply_to": { event_id: replyTo } } }),
  };
}

function readEvent(roomId: string, raw: unknown): MatrixEvent | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const event = raw as Record<string, unknown>;
  const { event_id: eventId, sender, type, content, origin_server_ts: originServerTs } = event;
  if (typeof eventId !== "string" || typeof sender !== "string" || typeof type !== "string" || typeof originServerTs !== "number") {
    return undefined;
  }
  return { roomId, eventId, sender, type, content, originServerTs };
}

function errcodeOf(error: unknown): string | undefined {
  if (error !== null && typeof error === "object" && "errcode" in error && typeof error.errcode === "string") return error.errcode;
  const body = error !== null && typeof error === "object" && "body" in error ? error.body : undefined;
  if (body !== null && typeof body === "object" && "errcode" in body && typeof body.errcode === "string") return body.errcode;
  return undefined;
}

function retryAfterOf(error: unknown): number | undefined {
  if (errcodeOf(error) !== "M_LIMIT_EXCEEDED") return undefined;
  if (error !== null && typeof error === "object" && "retryAfterMs" in error && typeof error.retryAfterMs === "number") {
    return error.retryAfterMs;
  }
  return 1_000;
}

/** SDK errors carry the whole request, token included: only the Matrix error code and text leave here. */
function describeSdkError(error: unknown): string {
  const errcode = errcodeOf(error);
  const text =
    error !== null && typeof error === "object" && "error" in error && typeof error.error === "string" ? error.error : undefined;
  if (errcode !== undefined) return `${errcode}${text === undefined ? "" : `: ${text}`}`;
  if (error instanceof Error) return error.message.split("\n")[0] ?? "unknown error";
  return "unknown error";
}

class SdkLogBridge {
  constructor(
    private readonly log: Logger,
    private readonly secrets: readonly string[],
  ) {}
  info(module: string, ...messageOrObject: unknown[]): void {
    this.log.debug({ sdkModule: module }, this.summarise(messageOrObject));
  }
  debug(module: string, ...messageOrObject: unknown[]): void {
    this.log.trace({ sdkModule: module }, this.summarise(messageOrObject));
  }
  trace(module: string, ...messageOrObject: unknown[]): void {
    this.log.trace({ sdkModule: module }, this.summarise(messageOrObject));
  }
  warn(module: string, ...messageOrObject: unknown[]): void {
    this.log.warn({ sdkModule: module }, this.summarise(messageOrObject));
  }
  error(module: string, ...messageOrObject: unknown[]): void {
    const summary = this.summarise(messageOrObject);
    // The SDK logs every non-2xx answer as an error, including the 404s Warden expects
    // (a room without an encryption or join-rules event); those belong in debug.
    if (summary.includes("M_NOT_FOUND")) this.log.debug({ sdkModule: module }, summary);
    else this.log.error({ sdkModule: module }, summary);
  }
  private summarise(parts: readonly unknown[]): string {
    return scrubSecrets(summarise(parts), this.secrets);
  }
}

/** Only strings and error codes: the SDK logs whole request objects, which carry the token. */
function summarise(parts: readonly unknown[]): string {
  return parts
    .map((part) => (typeof part === "string" ? part : errcodeOf(part) ?? (part instanceof Error ? part.message : "[object]")))
    .join(" ")
    .slice(0, 500);
}
