import type { Logger } from "pino";
import { managementRoomProblems, type ManagementRoomSettings } from "../access/roomSafety.js";
import type { ChatSender } from "../matrix/chat.js";
import type { RoomId } from "../matrix/ids.js";
import { renderRoomExposed, renderRoomSafeAgain } from "../render/replies.js";

/**
 * Keeps track of the management room's join rule and history visibility, warns in the room
 * when it becomes public or world-readable, and says so again when it is fixed.
 */
export class ManagementRoomGuard {
  private settings: ManagementRoomSettings = {};
  private problems: string[] = [];

  constructor(
    private readonly roomId: RoomId,
    private readonly chat: Pick<ChatSender, "send">,
    private readonly log: Logger,
  ) {}

  /** The reason commands are refused right now, or undefined when the room is private. */
  refusal(): string | undefined {
    return this.problems.length === 0 ? undefined : this.problems.join("; ");
  }

  /** Applies a state change (or the initial state) and tells the room if safety changed. */
  async update(change: ManagementRoomSettings): Promise<void> {
    this.settings = { ...this.settings, ...change };
    const before = this.problems;
    this.problems = managementRoomProblems(this.settings);
    if (this.problems.join() === before.join()) return;
    if (this.problems.length > 0) {
      this.log.warn({ roomId: this.roomId, problems: this.problems }, "management room is exposed; refusing commands");
      await this.chat.send(this.roomId, renderRoomExposed(this.problems));
    } else {
      this.log.info({ roomId: this.roomId }, "management room is private again");
      await this.chat.send(this.roomId, renderRoomSafeAgain());
    }
  }
}
