import type { TaskRecord } from "../../src/tasks/types.js";
import { FIXED_NOW } from "./fixedClock.js";

/** A plausible purge task; override what a test is about. */
export function sampleTask(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: "p-0a1b2c",
    kind: "purge",
    roomId: "!target:example.org",
    roomLabel: "!target:example.org",
    requester: "@mod:example.org",
    managementRoomId: "!mgmt:example.org",
    commandEventId: "$command",
    parameters: {},
    status: "scheduled",
    createdAt: FIXED_NOW - 60_000,
    statusChangedAt: FIXED_NOW - 60_000,
    finalNotificationSent: false,
    ...overrides,
  };
}
