import { describe, expect, it, vi } from "vitest";
import type { AuditEntry, AuditSink } from "../../../src/audit/auditLog.js";
import { ChatTaskNotifier, FINAL_NOTIFICATION_TRIES } from "../../../src/app/taskNotifier.js";
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

function notifier(chat: RecordingChat, logger = new MemoryLogger(), audit?: AuditSink): ChatTaskNotifier {
  return new ChatTaskNotifier(chat, new FixedClock(), logger.log, audit);
}

class RecordingAudit implements AuditSink {
  readonly entries: AuditEntry[] = [];
  record(entry: AuditEntry): void {
    this.entries.push(entry);
  }
}

describe("ChatTaskNotifier", () => {
  it("sends the final notification before the progress message's last edit, so the requester is told without waiting for an edit", async () => {
    const order: string[] = [];
    class OrderedChat extends RecordingChat {
      override async send(...args: Parameters<RecordingChat["send"]>): ReturnType<RecordingChat["send"]> {
        order.push("final");
        return super.send(...args);
      }
      override async edit(...args: Parameters<RecordingChat["edit"]>): ReturnType<RecordingChat["edit"]> {
        order.push("edit");
        return super.edit(...args);
      }
    }
    const chat = new OrderedChat();
    const delivered = await notifier(chat).finished(sampleTask({ progressEventId: "$progress", status: "complete", finishedAt: FIXED_NOW }));
    expect(delivered).toBe(true);
    await vi.waitFor(() => {
      expect(chat.edited).toHaveLength(1);
    });
    expect(order).toEqual(["final", "edit"]);
  });

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
    await vi.waitFor(() => {
      expect(chat.edited).toHaveLength(2);
    });
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

  it("tries an undeliverable final notification a bounded number of times, editing the progress message once, then gives up and records it", async () => {
    const chat = new RecordingChat();
    chat.failWith = "M_UNKNOWN: database is locked";
    const logger = new MemoryLogger();
    const audit = new RecordingAudit();
    const tasks = notifier(chat, logger, audit);
    const task = sampleTask({ progressEventId: "$progress", status: "complete", finishedAt: FIXED_NOW });
    const answers: boolean[] = [];
    for (let attempt = 0; attempt < FINAL_NOTIFICATION_TRIES; attempt++) answers.push(await tasks.finished(task));
    expect(answers).toEqual([...Array.from({ length: FINAL_NOTIFICATION_TRIES - 1 }, () => false), true]);
    expect(chat.edited).toHaveLength(1);
    expect(chat.sent).toHaveLength(FINAL_NOTIFICATION_TRIES);
    expect(logger.withMessage("gave up on the final notification: it could not be delivered")).toEqual([
      expect.objectContaining({ level: 50, taskId: task.id, tries: FINAL_NOTIFICATION_TRIES }),
    ]);
    expect(audit.entries).toEqual([
      expect.objectContaining({
        type: "task-finished",
        taskId: task.id,
        outcome: "complete",
        detail: `the final notification could not be delivered after ${FINAL_NOTIFICATION_TRIES} tries (M_UNKNOWN: database is locked)`,
      }),
    ]);
  });

  it("gives up at once on a final notification refused as too large even in its shorter form", async () => {
    const chat = new RecordingChat();
    chat.failWith = "M_TOO_LARGE: event too large";
    chat.failKind = "too-large";
    const logger = new MemoryLogger();
    const audit = new RecordingAudit();
    const task = sampleTask({ progressEventId: "$progress", status: "failed", reason: "boom", finishedAt: FIXED_NOW });
    expect(await notifier(chat, logger, audit).finished(task)).toBe(true);
    expect(chat.sent).toHaveLength(1);
    expect(logger.withMessage("gave up on the final notification: it could not be delivered")).toHaveLength(1);
    expect(audit.entries[0]?.detail).toBe("boom; the final notification could not be delivered after 1 try (M_TOO_LARGE: event too large)");
  });

  it("records a delivered final notification once, with the task's reason", async () => {
    const chat = new RecordingChat();
    const audit = new RecordingAudit();
    const task = sampleTask({ status: "failed", reason: "boom", finishedAt: FIXED_NOW });
    expect(await notifier(chat, new MemoryLogger(), audit).finished(task)).toBe(true);
    expect(audit.entries).toEqual([expect.objectContaining({ type: "task-finished", taskId: task.id, outcome: "failed", detail: "boom" })]);
  });
});
