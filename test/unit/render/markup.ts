import { expect } from "vitest";

/** A room name, reason or argument written to break out of a message: markup, markdown, mentions. */
export const HOSTILE =
  `<script>alert("x")</script> <img src=x onerror=alert(1)> **bold** [click](https://evil.example) @room ` +
  `<a href="https://matrix.to/#/@victim:example.org">@victim:example.org</a> & 'quoted'`;

const ALLOWED_TAGS = new Set(["b", "u", "code", "br", "ul", "li", "a"]);

/** Asserts the HTML body carries only Warden's own tags, and links only to the users given. */
export function expectOnlyOwnMarkup(html: string, linkedUsers: readonly string[] = []): void {
  const tags = [...html.matchAll(/<\/?([A-Za-z][A-Za-z0-9]*)/g)].map((match) => (match[1] ?? "").toLowerCase());
  expect(tags.filter((tag) => !ALLOWED_TAGS.has(tag))).toEqual([]);
  const links = [...html.matchAll(/<a href="([^"]*)">/g)].map((match) => match[1]);
  expect(links).toEqual(linkedUsers.map((user) => `https://matrix.to/#/${encodeURIComponent(user)}`));
  expect(tags.filter((tag) => tag === "a")).toHaveLength(linkedUsers.length * 2);
  expect(html).not.toContain("<script");
  expect(html).not.toContain("<img");
}
