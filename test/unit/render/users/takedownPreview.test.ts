import { describe, expect, it } from "vitest";
import type { TakedownPreviewData, TakedownUserPlan } from "../../../../src/model/takedowns.js";
import { takedownPreviewLines } from "../../../../src/render/users/takedown.js";

const OPTIONS: TakedownPreviewData["options"] = { deactivate: true, erase: false, rooms: false, quarantineMedia: true };

function plan(overrides: Partial<TakedownUserPlan>): TakedownUserPlan {
  return {
    userId: "@spammer:example.org",
    local: true,
    rooms: ["!a:example.org", "!b:example.org", "!c:example.org"],
    joinedRooms: 2,
    leftRooms: 1,
    events: 12,
    eventsBounded: false,
    ownRooms: [],
    notRunning: [],
    restrictBy: "suspend",
    ...overrides,
  };
}

function userValue(user: TakedownUserPlan): string | undefined {
  return takedownPreviewLines({ users: [user], leftOut: [], options: OPTIONS }).find((line) => line.label.startsWith(user.userId))?.value;
}

describe("the takedown preview", () => {
  it("names the rooms the redaction covers, the left ones among them", () => {
    expect(userValue(plan({ media: 2 }))).toBe(
      "suspended first; 2 files quarantined; redacted in 3 rooms (2 joined, 1 left or banned), about 12 of their events: !a:example.org, !b:example.org, !c:example.org; deactivated after the redaction",
    );
  });

  it("says a remote user's events are redacted by Warden's account, only where it may", () => {
    // A remote user's files are found only when the takedown reads their events: the preview has no count.
    const remote = plan({ userId: "@visitor:remote.example", local: false, restrictBy: "none", rooms: ["!a:example.org"], joinedRooms: 1, leftRooms: 0, events: 3 });
    expect(userValue(remote)).toBe(
      "not restricted (remote); their media quarantined; redacted in 1 room (1 joined, 0 left or banned) by Warden's account, only where it is joined with the power to redact (Synapse's rule for a remote user), about 3 of their events: !a:example.org",
    );
  });
});
