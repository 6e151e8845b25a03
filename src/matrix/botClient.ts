import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { StoreType } from "@matrix-org/matrix-sdk-crypto-nodejs";
import type { MatrixClient } from "matrix-bot-sdk";
import { err, ok, type Result } from "../util/result.js";
import { scrubSecrets } from "../log.js";
import {
  cutToBytes,
  fitMessage,
  MESSAGE_BUDGET_BYTES,
  messageBytes,
  RECORD_KEY,
  type ChatSender,
  type OutgoingMessage,
  type RoomDirectory,
  type SendFailure,
  type SendOptions,
} from "./chat.js";
import { prepareCrypto, type CryptoAvailability } from "./crypto.js";
import { asRoomId, type RoomAlias, type RoomId } from "./ids.js";
import { SyncPositionGate, type SyncStore } from "./syncGate.js";
import { fillTimelineGaps } from "./timelineGap.js";

export interface MatrixEvent {
  readonly roomId: string;
  readonly eventId: string;
  readonly sender: string;
  readonly type: string;
  readonly content: unknown;
  readonly originServerTs: number;
}

const MAX_RATE_LIMIT_RETRIES = 5;
/** What the one retry after M_TOO_LARGE may take: a quarter of the usual budget, the shorter form. */
const RETRY_BUDGET_BYTES = MESSAGE_BUDGET_BYTES / 4;
/**
 * An edit repeats the body outside m.new_content for clients that do not show edits. The
 * whole message is in m.new_content, so the fallback gets what the message leaves of the
 * budget, and never less than this: an edit stays within the budget plus 2 KiB.
 */
const EDIT_FALLBACK_MIN_BYTES = 2 * 1024;

/** Encrypts a room event's content for an encrypted room (the SDK's crypto client, or a test's stand-in). */
export interface RoomEncryptor {
  encryptRoomEvent(roomId: string, eventType: string, content: Record<string, unknown>): Promise<object>;
}
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
    private readonly encryptor: RoomEncryptor | undefined,
    private readonly gate: SyncPositionGate,
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
    storage: SyncStore;
    dataDirectory: string;
    log: Logger;
    /** Injected by tests so a 429's wait is recorded rather than slept. */
    sleep?: (milliseconds: number) => Promise<void>;
    /** Injected by tests: the native crypto library is usually missing where unit tests run. */
    encryptor?: RoomEncryptor;
    /** Called after each sync the homeserver answered, for /healthz. */
    onSync?: () => void;
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
    const gate = new SyncPositionGate(options.storage);
    const log = options.log;
    /**
     * The SDK's client, told to store a sync position only after that sync's events are handed
     * out, and to fill a timeline the homeserver cut short (see fillTimelineGaps).
     */
    class PositionAfterEventsClient extends sdk.MatrixClient {
      private syncedSince: string | null = null;

      constructor() {
        super(options.homeserverUrl, options.accessToken, options.onSync === undefined ? gate : noticingSyncs(gate, options.onSync), cryptoStore);
        this.persistTokenAfterSync = true;
      }

      protected override doSync(token: string | null): Promise<unknown> {
        this.syncedSince = token;
        return super.doSync(token as string);
      }

      protected override async processSync(raw: unknown, emitFn?: (type: string, ...payload: unknown[]) => Promise<unknown>): Promise<unknown> {
        // Without a token the first sync is history by definition: never run, so never fetched.
        if (this.syncedSince !== null) {
          try {
            const added = await fillTimelineGaps(
              raw,
              (roomId, from, limit) => this.doRequest("GET", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`, { dir: "b", from, limit }),
              Date.now(),
            );
            if (added > 0) log.info({ added }, "filled a gap in the management room's timeline");
          } catch (error) {
            log.warn({ error: scrubSecrets(describeSdkError(error), secrets) }, "could not fill a gap in the management room's timeline");
          }
        }
        return super.processSync(raw, emitFn);
      }
    }
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const client = new PositionAfterEventsClient();
    const encryptor = options.encryptor ?? (crypto.available ? sdkEncryptor(client) : undefined);
    return new BotClient(client, crypto, options.log, sleep, secrets, encryptor, gate);
  }

  /**
   * Makes the stored sync position wait for `recorded` (every command the sync delivered is
   * written down) before it moves; a rejection keeps it where it is. See SyncPositionGate.
   */
  holdSyncPositionUntil(recorded: () => Promise<void>): void {
    this.gate.holdUntil(recorded);
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

  /**
   * Sends within the budget (see fitMessage). A message the homeserver still refuses as too
   * large is sent once more in its shorter form, under a derived fixed transaction id so that
   * a resend after a crash stays a no-op too; if that is refused as well the failure says
   * "too-large", which no later try can fix.
   */
  async send(roomId: RoomId, message: OutgoingMessage, options: SendOptions = {}): Promise<Result<string, SendFailure>> {
    const txnId = options.transactionId ?? newTransactionId();
    const sent = await this.sendContent(roomId, toContent(fitMessage(message), options.replyTo), txnId);
    if (sent.ok || sent.error.kind !== "too-large") return sent;
    this.log.warn({ roomId, error: sent.error.detail }, "the homeserver refused a message as too large; sending its shorter form");
    return this.sendContent(roomId, toContent(shorterForm(message), options.replyTo), `${txnId}-short`);
  }

  /** Like send; the budget holds for the whole edit, whose m.new_content carries the message once. */
  async edit(roomId: RoomId, eventId: string, message: OutgoingMessage): Promise<Result<string, SendFailure>> {
    const sent = await this.sendContent(roomId, toEditContent(fitMessage(message), eventId), newTransactionId());
    if (sent.ok || sent.error.kind !== "too-large") return sent;
    this.log.warn({ roomId, error: sent.error.detail }, "the homeserver refused an edit as too large; sending its shorter form");
    return this.sendContent(roomId, toEditContent(shorterForm(message), eventId), newTransactionId());
  }

  onMessage(handler: (event: MatrixEvent) => void): void {
    this.client.on("room.message", (roomId: string, raw: unknown) => {
      const event = readEvent(roomId, raw);
      if (event !== undefined) handler(event);
    });
  }

  async start(managementRoomId: RoomId): Promise<void> {
    try {
      await this.client.start(syncFilter(managementRoomId));
    } catch (error) {
      // Thrown on to the start-up, which prints it to stderr: only scrubbed text goes, and no
      // cause, which would carry the SDK's request with its token.
      // eslint-disable-next-line preserve-caught-error -- see above
      throw new Error(`could not start syncing: ${this.explain(error)}`);
    }
  }

  /**
   * Stops syncing. A /sync already in flight may still deliver events after this; their sync
   * position is never stored, so the next start receives them again.
   */
  stop(): void {
    this.gate.close();
    this.client.stop();
  }

  /**
   * Sends with our own transaction id (so a crash-and-resend is deduplicated) and honours 429s.
   * In an encrypted room the content is encrypted here and sent with the same fixed id: the
   * SDK's own encrypted send would pick a fresh id for every call.
   */
  private async sendContent(roomId: RoomId, content: Record<string, unknown>, txnId: string): Promise<Result<string, SendFailure>> {
    for (let attempt = 0; ; attempt++) {
      try {
        const encrypted = this.encryptor !== undefined && this.encryptedRooms.has(roomId);
        const type = encrypted ? "m.room.encrypted" : "m.room.message";
        const body = encrypted ? await this.encryptor.encryptRoomEvent(roomId, "m.room.message", content) : content;
        const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${type}/${encodeURIComponent(txnId)}`;
        const response: unknown = await this.client.doRequest("PUT", path, null, body);
        const eventId = typeof response === "object" && response !== null ? (response as { event_id?: unknown }).event_id : undefined;
        return typeof eventId === "string" ? ok(eventId) : err({ kind: "failed", detail: "the homeserver did not return an event ID" });
      } catch (error) {
        const wait = retryAfterOf(error);
        if (wait !== undefined && attempt < MAX_RATE_LIMIT_RETRIES) {
          this.log.warn({ roomId, waitMs: wait }, "rate-limited while sending; waiting");
          await this.sleep(wait);
          continue;
        }
        return err({ kind: errcodeOf(error) === "M_TOO_LARGE" ? "too-large" : "failed", detail: this.explain(error) });
      }
    }
  }
}

/** The form tried after M_TOO_LARGE: the message's own shorter form, or the message cut to half its size; at most RETRY_BUDGET_BYTES. */
function shorterForm(message: OutgoingMessage): OutgoingMessage {
  if (message.short !== undefined) return fitMessage(message.short, RETRY_BUDGET_BYTES);
  return fitMessage(message, Math.min(RETRY_BUDGET_BYTES, messageBytes(message) / 2));
}

function newTransactionId(): string {
  return `warden-${randomBytes(8).toString("hex")}`;
}

function sdkEncryptor(client: MatrixClient): RoomEncryptor {
  return {
    encryptRoomEvent: (roomId, eventType, content) => client.crypto.encryptRoomEvent(roomId, eventType, content),
  };
}

/** An m.replace edit. Its fallback (for clients without edits) is the plain body, cut if the message is long. */
function toEditContent(message: OutgoingMessage, eventId: string): Record<string, unknown> {
  const replacement = toContent(message, undefined);
  const fallback = cutToBytes(message.plain, Math.max(EDIT_FALLBACK_MIN_BYTES, MESSAGE_BUDGET_BYTES - messageBytes(message)));
  return {
    msgtype: replacement["msgtype"],
    body: `* ${fallback}`,
    "m.mentions": replacement["m.mentions"],
    "m.new_content": replacement,
    "m.relates_to": { rel_type: "m.replace", event_id: eventId },
  };
}

/** Only the management room matters; the filter keeps every other room out of the sync. */
export function syncFilter(managementRoomId: RoomId): Record<string, unknown> {
  return {
    presence: { not_types: ["*"] },
    account_data: { not_types: ["*"] },
    room: {
      rooms: [managementRoomId],
      timeline: { limit: 50 },
      ephemeral: { not_types: ["*"] },
      account_data: { not_types: ["*"] },
    },
  };
}

/**
 * The SDK emits no event for a completed sync, but it stores the next sync token after every
 * sync the homeserver answered (and only then): that call is the signal.
 */
function noticingSyncs<S extends { setSyncToken(token: string | null): unknown }>(storage: S, onSync: () => void): S {
  return new Proxy(storage, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === "setSyncToken") {
        return (token: string | null) => {
          onSync();
          return target.setSyncToken(token);
        };
      }
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function toContent(message: OutgoingMessage, replyTo: string | undefined): Record<string, unknown> {
  const notify = message.mentions !== undefined && message.mentions.length > 0;
  return {
    // m.notice is silenced by the default push rules; a message that must notify is m.text.
    msgtype: notify ? "m.text" : "m.notice",
    body: message.plain,
    // fitMessage drops the HTML of a message it had to cut: clients then show the body.
    ...(message.html === "" ? {} : { format: "org.matrix.custom.html", formatted_body: message.html }),
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
