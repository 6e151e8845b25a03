import { describe, expect, it } from "vitest";
import { blockSender, purgeSender, shutdownSender } from "../../../../src/tasks/waves/senders.js";

/** None of these is called: the test only asks the senders what they are. */
const never = (): Promise<never> => Promise.reject(new Error("not called"));

describe("wave senders: job slots", () => {
  it("a purge or a shutdown starts a homeserver job and takes a slot; a block does not", () => {
    const launcher = { launch: never };
    expect(purgeSender({ timestampToEvent: never, startPurge: never }, launcher).usesJobSlot).toBe(true);
    expect(shutdownSender({ startDelete: never, quarantineRoomMedia: never }, launcher).usesJobSlot).toBe(true);
    expect(blockSender({ setBlocked: never }, true).usesJobSlot).toBe(false);
  });
});
