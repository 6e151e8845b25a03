import { describe, expect, it } from "vitest";
import { renderTakedownBoard } from "../../../../src/render/users/takedown.js";
import { takedown, takedownUser } from "../../tasks/takedowns/harness.js";

describe("the takedown board", () => {
  it("pages through users past the first twenty, naming the next page", () => {
    const record = takedown(Array.from({ length: 45 }, (_, index) => takedownUser(`@u${index}:example.org`)));

    const first = renderTakedownBoard(record, "!", 0).plain;
    const second = renderTakedownBoard(record, "!", 0, 2).plain;
    const third = renderTakedownBoard(record, "!", 0, 3).plain;
    const beyond = renderTakedownBoard(record, "!", 0, 4).plain;

    expect(first).toContain("@u0:example.org");
    expect(first).toContain("@u19:example.org");
    expect(first).not.toContain("@u20:example.org");
    expect(first).toContain("and 25 more users: !status t-000001 --page 2");
    expect(second).toContain("@u20:example.org");
    expect(second).not.toContain("@u19:example.org\n");
    expect(second).toContain("and 5 more users: !status t-000001 --page 3");
    expect(third).toContain("@u44:example.org");
    expect(third).not.toContain("more users");
    expect(beyond).toContain("No users on page 4: the takedown has 45.");
  });
});
