import { describe, expect, it } from "vitest";
import { ChatTaskNotifier } from "../../../src/app/taskNotifier.js";
import type { OutgoingMessage, SendFailure } from "../../../src/matrix/chat.js";
import type { RoomId } from "../../../src/matrix/ids.js";
import { type Result } from "../../../src/util/result.js";
import { FIXED_NOW, FixedClock } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingChat } from "../../fakes/recordingChat.js";
import { sampleTask } from "../../fakes/sampleTask.js";

/** A chat whose edits wait until released, as a rate-limited homeserver makes them wait. */
class RateLimitedChat extends RecordingChat {
  private release: (() => void) | undefined;
  private gate: Promise<void> | undefined;

  limit(): void {
    this.gate = new Promise((resolve) => {
      this.release = resolve;
    });
  }

  lift(): void {
    this.release?.();
    this.gate = undefined;
  }

  override async edit(roomId: RoomId, eventId: string, message: OutgoingMessage): Promise<Result<string, SendFailure>> {
    const result = await super.edit(roomId, eventId, message);
    await this.gate;
    return result;
  }
}

function notifier(chat: RecordingChat): ChatTaskNotifier {
  return new ChatTaskNotifier(chat, new FixedClock(), new MemoryLogger().log);
}

describe("ChatTaskNotifier", () => {
  it("merges progress edits while the room is rate-limited: the newest status is sent next, the ones between are dropped", async () => {
    const chat = new RateLimitedChat();
    const tasks = notifier(chat);
    chat.limit();
    const base = sampleTask({ progressEventId: "$progress" });
    await tasks.progressed({ ...base, status: "scheduled" });
    await tasks.progressed({ ...base, status: "active", reason: "first" });
    await tasks.progressed({ ...base, status: "active", reason: "second" });
    expect(chat.edited).toHaveLength(1);
    chat.lift();
    await tasks.editsSettled(base.id);
    expect(chat.edited.map((edit) => edit.message.plain.split("\n")[0])).toEqual([
      expect.stringContaining("queued on the homeserver"),
      expect.stringContaining("running"),
    ]);
  });

  it("does not hold up the caller while an edit waits", async () => {
    const chat = new RateLimitedChat();
    const tasks = notifier(chat);
    chat.limit();
    let returned = false;
    await tasks.progressed(sampleTask({ progressEventId: "$progress", status: "active" })).then(() => {
      returned = true;
    });
    expect(returned).toBe(true);
    chat.lift();
  });

  it("sends the final state as an edit and one notification with a fixed transaction id", async () => {
    const chat = new RecordingChat();
    const tasks = notifier(chat);
    const task = sampleTask({ progressEventId: "$progress", status: "complete", finishedAt: FIXED_NOW });
    expect(await tasks.finished(task)).toBe(true);
    expect(chat.edited).toHaveLength(1);
    expect(chat.edited[0]?.message.plain).toContain(": done");
    expect(chat.sent).toHaveLength(1);
    expect(chat.sent[0]?.options).toEqual({ replyTo: "$command", transactionId: "warden-final-p-0a1b2c" });
    expect(chat.sent[0]?.message.mentions).toEqual(["@mod:example.org"]);
  });

  it("reports an undelivered final notification so the tracker tries again", async () => {
    const chat = new RecordingChat();
    chat.failWith = "M_FORBIDDEN";
    expect(await notifier(chat).finished(sampleTask({ status: "failed" }))).toBe(false);
  });
});
