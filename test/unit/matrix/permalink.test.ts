import { describe, expect, it } from "vitest";
import { parsePermalink } from "../../../src/matrix/permalink.js";

describe("parsePermalink", () => {
  it.each([
    ["https://matrix.to/#/!abc:example.org", { room: "!abc:example.org" }],
    ["https://matrix.to/#/!abc:example.org?via=example.org&via=other.org", { room: "!abc:example.org" }],
    ["https://matrix.to/#/%21abc%3Aexample.org", { room: "!abc:example.org" }],
    ["https://matrix.to/#/#spam:example.org", { room: "#spam:example.org" }],
    ["https://matrix.to/#/%23spam%3Aexample.org?via=example.org", { room: "#spam:example.org" }],
    ["https://matrix.to/#/!abc:example.org/", { room: "!abc:example.org" }],
    ["https://matrix.to/#/!abc:example.org/$ev", { room: "!abc:example.org", eventId: "$ev" }],
    ["https://matrix.to/#/%21abc%3Aexample.org/%24ev%2Fwith%2Bslash?via=example.org", { room: "!abc:example.org", eventId: "$ev/with+slash" }],
    ["https://matrix.to/#/%23spam%3Aexample.org/%24ev%3Aexample.org", { room: "#spam:example.org", eventId: "$ev:example.org" }],
  ])("reads %s", (text, expected) => {
    expect(parsePermalink(text)).toEqual(expected);
  });

  it.each([
    "!abc:example.org",
    "http://matrix.to/#/!abc:example.org",
    "https://matrix.to/!abc:example.org",
    "https://example.org/#/!abc:example.org",
    "https://matrix.to/#/",
    "https://matrix.to/#/?via=example.org",
    "https://matrix.to/#/@alice:example.org",
    "https://matrix.to/#/!abc:example.org/notanevent",
    "https://matrix.to/#/!abc:example.org/$ev/extra",
    "https://matrix.to/#/%E0%A4%A",
    "https://matrix.to/#/!abc:example.org/%ZZ",
    "https://matrix.to/#/spam",
  ])("refuses %s", (text) => {
    expect(parsePermalink(text)).toBeUndefined();
  });
});
