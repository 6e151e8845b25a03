import type { Logger } from "pino";
import { managementRoomProblems, type ManagementRoomSettings } from "../access/roomSafety.js";
import type { ChatSender } from "../matrix/chat.js";
import type { RoomId } from "../matrix/ids.js";
import { renderRoomExposed, renderRoomSafeAgain } from "../render/replies.js";
import type { Result } from "../util/result.js";

/** Reads one state event's content of the management room; undefined when the room has none. */
export interface RoomStateReader {
  stateContent(roomId: RoomId, type: string): Promise<Result<Record<string, unknown> | undefined, string>>;
}

type Reading = { readonly known: true; readonly value: string } | { readonly known: false; readonly why: string };

interface Setting {
  readonly key: keyof ManagementRoomSettings;
  readonly eventType: string;
  readonly field: string;
  /** What the spec says a room without the event has. */
  readonly absent: string;
  readonly name: string;
}

const SETTINGS: readonly Setting[] = [
  { key: "joinRule", eventType: "m.room.join_rules", field: "join_rule", absent: "invite", name: "join rule" },
  { key: "historyVisibility", eventType: "m.room.history_visibility", field: "history_visibility", absent: "shared", name: "history visibility" },
];

/**
 * Keeps track of the management room's join rule and history visibility, warns in the room
 * when it becomes public or world-readable, and says so again when it is fixed. Fails closed:
 * until both settings have been read (and whenever they cannot be read) commands are refused,
 * and each refusal tries to read them again.
 */
export class ManagementRoomGuard {
  private readings = new Map<keyof ManagementRoomSettings, Reading>(SETTINGS.map((setting) => [setting.key, { known: false, why: "not read yet" }]));
  private problems: string[] = this.currentProblems();
  private rereading = false;
  /** Whether the room was told commands are refused: only then is "private again" news. */
  private warned = false;

  constructor(
    private readonly roomId: RoomId,
    private readonly chat: Pick<ChatSender, "send">,
    private readonly reader: RoomStateReader,
    private readonly log: Logger,
  ) {}

  /** The reason commands are refused right now, or undefined when the room is private. */
  refusal(): string | undefined {
    if (this.problems.length === 0) return undefined;
    if ([...this.readings.values()].some((reading) => !reading.known) && !this.rereading) void this.reread();
    return this.problems.join("; ");
  }

  /** Reads the settings without telling the room, so start-up can speak first; see announce. */
  async load(): Promise<void> {
    await this.readAll();
    this.problems = this.currentProblems();
    if (this.problems.length > 0) this.log.warn({ roomId: this.roomId, problems: this.problems }, "management room is exposed or unreadable; refusing commands");
  }

  /** Tells the room why commands are refused, if they are. */
  async announce(): Promise<void> {
    if (this.problems.length === 0) return;
    this.warned = true;
    await this.chat.send(this.roomId, renderRoomExposed(this.problems));
  }

  /** Applies a state change and tells the room if safety changed. */
  async update(change: ManagementRoomSettings): Promise<void> {
    for (const setting of SETTINGS) {
      const value = change[setting.key];
      if (value !== undefined) this.readings.set(setting.key, { known: true, value });
    }
    await this.tellIfChanged();
  }

  private async reread(): Promise<void> {
    this.rereading = true;
    try {
      await this.readAll();
      await this.tellIfChanged();
    } finally {
      this.rereading = false;
    }
  }

  private async readAll(): Promise<void> {
    await Promise.all(
      SETTINGS.map(async (setting) => {
        const content = await this.reader.stateContent(this.roomId, setting.eventType);
        if (!content.ok) {
          this.readings.set(setting.key, { known: false, why: content.error });
          return;
        }
        const value = content.value?.[setting.field];
        this.readings.set(setting.key, { known: true, value: typeof value === "string" ? value : setting.absent });
      }),
    );
  }

  private async tellIfChanged(): Promise<void> {
    const before = this.problems;
    this.problems = this.currentProblems();
    if (this.problems.join() === before.join()) return;
    if (this.problems.length > 0) {
      this.log.warn({ roomId: this.roomId, problems: this.problems }, "management room is exposed; refusing commands");
      this.warned = true;
      await this.chat.send(this.roomId, renderRoomExposed(this.problems));
    } else {
      this.log.info({ roomId: this.roomId }, "management room is private again");
      if (!this.warned) return;
      this.warned = false;
      await this.chat.send(this.roomId, renderRoomSafeAgain());
    }
  }

  private currentProblems(): string[] {
    const known: Record<string, string> = {};
    const unreadable: string[] = [];
    for (const setting of SETTINGS) {
      const reading = this.readings.get(setting.key);
      if (reading?.known === true) known[setting.key] = reading.value;
      else unreadable.push(`Warden could not read its ${setting.name} (${reading?.why ?? "not read yet"}), so it cannot tell who can see or join it`);
    }
    return [...managementRoomProblems(known), ...unreadable];
  }
}
