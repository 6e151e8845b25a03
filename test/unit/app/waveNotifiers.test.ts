import { describe, expect, it } from "vitest";
import { ChatWaveNotifier } from "../../../src/app/waveNotifier.js";
import { WaveAwareTaskNotifier } from "../../../src/app/waveTaskNotifier.js";
import type { AuditEntry } from "../../../src/audit/auditLog.js";
import type { WaveRecord, WaveView } from "../../../src/model/waves.js";
import { FixedClock } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingChat } from "../../fakes/recordingChat.js";
import { RecordingTaskNotifier } from "../../fakes/recordingTaskNotifier.js";
import { sampleTask } from "../../fakes/sampleTask.js";

const SELF = "@warden:example.org";

function view(change: Partial<WaveRecord> = {}): WaveView {
  const wave: WaveRecord = {
    id: "w-4c1e0a",
    kind: "purge",
    requester: "@mod:example.org",
    managementRoomId: "!mgmt:example.org",
    commandEventId: "$command",
    selection: { listed: [], matching: "casino" },
    parameters: { cutoffTs: 0, cutoff: "1970-01-01 00:00:00 UTC", deleteLocalEvents: false },
    leftOut: [],
    status: "finished",
    boardEventId: "$board",
    createdAt: 0,
    finishedAt: 60_000,
    finalNotificationSent: false,
    ...change,
  };
  return {
    wave,
    now: 60_000,
    rooms: [
      { waveId: wave.id, roomId: "!a:x", phase: "main", label: "!a:x", state: "done", attempts: 1 },
      { waveId: wave.id, roomId: "!b:x", phase: "main", label: "!b:x", state: "failed", attempts: 3, reason: "locked" },
    ],
  };
}

describe("wave notifiers", () => {
  it("route a wave's tasks to the engine and keep the room quiet; other tasks reach the chat, and their end reaches the engine too", async () => {
    const inner = new RecordingTaskNotifier(new FixedClock());
    const ended: string[] = [];
    const notifier = new WaveAwareTaskNotifier(inner, new MemoryLogger().log);
    notifier.attach({ taskEnded: (task) => Promise.resolve(void ended.push(task.id)) });
    const waveTask = sampleTask({ id: "p-00000a", status: "complete", parameters: { waveId: "w-4c1e0a" } });
    const single = sampleTask({ id: "p-00000b", status: "complete" });

    expect(await notifier.accepted(waveTask)).toBeUndefined();
    await notifier.progressed(waveTask);
    await notifier.stuck(waveTask);
    expect(await notifier.finished(waveTask)).toBe(true);
    expect(await notifier.finished(single)).toBe(true);

    expect(inner.calls.map((call) => `${call.method} ${call.task.id}`)).toEqual(["finished p-00000b"]);
    expect(ended).toEqual(["p-00000a", "p-00000b"]);
  });

  it("let the tasks of a wave without a board reach the chat like a single command's, and their end the engine too", async () => {
    const inner = new RecordingTaskNotifier(new FixedClock());
    const ended: string[] = [];
    const notifier = new WaveAwareTaskNotifier(inner, new MemoryLogger().log);
    notifier.attach({ taskEnded: (task) => Promise.resolve(void ended.push(task.id)) });
    const task = sampleTask({ id: "s-00000a", kind: "shutdown", status: "complete", parameters: { waveId: "w-4c1e0a", waveBoard: false } });

    expect(await notifier.accepted(task)).toBe("$progress");
    await notifier.progressed(task);
    await notifier.stuck(task);
    expect(await notifier.finished(task)).toBe(true);

    expect(inner.calls.map((call) => call.method)).toEqual(["accepted", "progressed", "stuck", "finished"]);
    expect(ended).toEqual(["s-00000a"]);
  });

  it("post no summary for a wave without a board (its tasks' messages told), only its record", async () => {
    const chat = new RecordingChat();
    const audit: AuditEntry[] = [];
    const notifier = new ChatWaveNotifier(chat, new FixedClock(), new MemoryLogger().log, SELF, { record: (entry) => audit.push(entry) });

    expect(await notifier.finished(view({ board: false }))).toBe(true);

    expect(chat.sent).toEqual([]);
    expect(chat.edited).toEqual([]);
    expect(audit).toEqual([expect.objectContaining({ type: "task-finished", taskId: "w-4c1e0a", detail: "1 done, 1 failed, 0 skipped, 0 not sent" })]);
  });

  it("tell the requester of a wave without a board whose room stopped at its media step: no task's message told it", async () => {
    const chat = new RecordingChat();
    const audit: AuditEntry[] = [];
    const notifier = new ChatWaveNotifier(chat, new FixedClock(), new MemoryLogger().log, SELF, { record: (entry) => audit.push(entry) });
    const reason = "its media could not be quarantined, so the room was not shut down: not served";
    const single: WaveView = {
      ...view(),
      wave: {
        id: "w-4c1e0a",
        kind: "shutdown",
        requester: "@mod:example.org",
        managementRoomId: "!mgmt:example.org",
        commandEventId: "$command",
        selection: { listed: ["!a:x"] },
        parameters: { block: false, purge: false, forcePurge: false, quarantineMedia: true },
        leftOut: [],
        status: "finished",
        createdAt: 0,
        finishedAt: 60_000,
        finalNotificationSent: false,
        board: false,
      },
    };
    const stopped: WaveView = { ...single, rooms: [{ waveId: "w-4c1e0a", roomId: "!a:x", phase: "main", label: "#a:x", state: "failed", attempts: 1, reason, steps: { media: { ok: false, reason, at: 1 } } }] };

    expect(await notifier.finished(stopped)).toBe(true);

    expect(chat.sent.map((sent) => sent.options)).toEqual([{ replyTo: "$command", transactionId: "warden-wave-final-w-4c1e0a" }]);
    expect(chat.sent[0]?.message.mentions).toEqual(["@mod:example.org"]);
    expect(chat.sent[0]?.message.plain).toBe(`@mod:example.org: Shutdown not done: 1 room stopped before the homeserver was asked to delete it.\n- #a:x (!a:x): ${reason}\n!status w-4c1e0a shows it`);
    expect(chat.edited).toEqual([]);
    expect(audit).toEqual([expect.objectContaining({ type: "task-finished", taskId: "w-4c1e0a", detail: "0 done, 1 failed, 0 skipped, 0 not sent" })]);

    // A room that failed after its step (its delete failed) was told by its task's own final message.
    const told: WaveView = { ...single, rooms: [{ ...stopped.rooms[0], steps: { media: { ok: true, count: 2, at: 1 } } } as WaveView["rooms"][number]] };
    expect(await notifier.finished(told)).toBe(true);
    expect(chat.sent).toHaveLength(1);
  });

  it("tell the requester the main phase ended, once, replying to the command with a fixed transaction id; try again when it fails, up to ten times", async () => {
    const chat = new RecordingChat();
    const notifier = new ChatWaveNotifier(chat, new FixedClock(), new MemoryLogger().log, SELF);
    const running = view({ status: "running", kind: "shutdown", parameters: { block: true, purge: false, forcePurge: false, purgeWhen: "members-seen", purgeDeadlineMs: 86_400_000 } });

    expect(await notifier.mainPhaseEnded(running)).toBe(true);
    expect(chat.sent.map((sent) => sent.options)).toEqual([{ replyTo: "$command", transactionId: "warden-wave-main-phase-w-4c1e0a" }]);
    expect(chat.sent[0]?.message.mentions).toEqual(["@mod:example.org"]);
    expect(chat.sent[0]?.message.plain).toMatch(/^@mod:example.org: Wave w-4c1e0a \(shut down then purge once members have seen it, 2 rooms\) main phase finished in/);
    expect(chat.edited.map((edit) => edit.eventId)).toEqual(["$board"]);

    chat.failWith = "M_UNKNOWN";
    const tries: boolean[] = [];
    for (let attempt = 0; attempt < 10; attempt++) tries.push(await notifier.mainPhaseEnded(running));
    expect(tries).toEqual([false, false, false, false, false, false, false, false, false, true]);
  });

  it("notify nobody of a main phase's end for a wave Warden started itself", async () => {
    const chat = new RecordingChat();
    const notifier = new ChatWaveNotifier(chat, new FixedClock(), new MemoryLogger().log, SELF);
    await notifier.mainPhaseEnded(view({ status: "running", requester: SELF, commandEventId: "retention:nightly:1" }));
    expect(chat.sent.map((sent) => [sent.options, sent.message.mentions])).toEqual([[{ transactionId: "warden-wave-main-phase-w-4c1e0a" }, []]]);
  });

  it("ask the tracker to try again when the engine could not record a task's end", async () => {
    const inner = new RecordingTaskNotifier(new FixedClock());
    const notifier = new WaveAwareTaskNotifier(inner, new MemoryLogger().log);
    notifier.attach({ taskEnded: () => Promise.reject(new Error("database is locked")) });

    expect(await notifier.finished(sampleTask({ parameters: { waveId: "w-4c1e0a" } }))).toBe(false);
    expect(inner.calls).toEqual([]);
  });

  it("post the board in reply to the command, and the summary once with a fixed transaction id, mentioning the requester", async () => {
    const chat = new RecordingChat();
    const audit: AuditEntry[] = [];
    const notifier = new ChatWaveNotifier(chat, new FixedClock(), new MemoryLogger().log, SELF, { record: (entry) => audit.push(entry) });

    expect(await notifier.posted(view({ status: "running" }))).toBe("$sent-1");
    expect(await notifier.finished(view())).toBe(true);

    expect(chat.sent.map((sent) => sent.options)).toEqual([{ replyTo: "$command" }, { replyTo: "$command", transactionId: "warden-wave-final-w-4c1e0a" }]);
    expect(chat.sent[1]?.message.mentions).toEqual(["@mod:example.org"]);
    expect(chat.edited.map((edit) => edit.eventId)).toEqual(["$board"]);
    expect(audit).toEqual([
      expect.objectContaining({ type: "task-finished", command: "wave purge", taskId: "w-4c1e0a", outcome: "finished", detail: "1 done, 1 failed, 0 skipped, 0 not sent" }),
    ]);
  });

  it("reply to nothing and notify nobody for a wave Warden started itself", async () => {
    const chat = new RecordingChat();
    const notifier = new ChatWaveNotifier(chat, new FixedClock(), new MemoryLogger().log, SELF);
    const scheduled = view({ requester: SELF, commandEventId: "retention:nightly:1", policy: "nightly" });

    await notifier.posted(scheduled);
    await notifier.finished(scheduled);

    expect(chat.sent.map((sent) => sent.options)).toEqual([{}, { transactionId: "warden-wave-final-w-4c1e0a" }]);
    expect(chat.sent[1]?.message.mentions).toEqual([]);
  });

  it("try the summary again when it could not be sent, and give up after ten tries, recording why", async () => {
    const chat = new RecordingChat();
    chat.failWith = "M_UNKNOWN";
    const audit: AuditEntry[] = [];
    const notifier = new ChatWaveNotifier(chat, new FixedClock(), new MemoryLogger().log, SELF, { record: (entry) => audit.push(entry) });

    const answers: boolean[] = [];
    for (let attempt = 0; attempt < 10; attempt++) answers.push(await notifier.finished(view()));

    expect(answers).toEqual([false, false, false, false, false, false, false, false, false, true]);
    expect(audit[0]?.detail).toMatch(/the summary could not be delivered \(M_UNKNOWN\)/);
  });
});
