import { describe, expect, it } from "vitest";
import { likePattern, roomSearch, sqlLike, sqlLower } from "../../../bench/simulator/like.js";

describe("the simulator's SQL LIKE", () => {
  it("reads _ as any one character and % as any text, on both databases", () => {
    for (const engine of ["sqlite", "postgres"] as const) {
      const pattern = likePattern("%old_logs%", engine);
      expect(sqlLike("the old-logs room", pattern, engine)).toBe(true);
      expect(sqlLike("the old_logs room", pattern, engine)).toBe(true);
      expect(sqlLike("the oldlogs room", pattern, engine)).toBe(false);
      expect(sqlLike("1000", likePattern("%100%%", engine), engine)).toBe(true);
      expect(sqlLike("x", likePattern("_", engine), engine)).toBe(true);
      expect(sqlLike("xy", likePattern("_", engine), engine)).toBe(false);
    }
  });

  it("takes other pattern characters literally (no regular expression leaks through)", () => {
    expect(sqlLike("a.b", likePattern("a.b", "sqlite"), "sqlite")).toBe(true);
    expect(sqlLike("axb", likePattern("a.b", "sqlite"), "sqlite")).toBe(false);
    expect(sqlLike("(a)+", likePattern("(a)+", "postgres"), "postgres")).toBe(true);
  });

  it("escapes with a backslash on PostgreSQL only", () => {
    expect(sqlLike("a_b", likePattern("a\\_b", "postgres"), "postgres")).toBe(true);
    expect(sqlLike("axb", likePattern("a\\_b", "postgres"), "postgres")).toBe(false);
    // SQLite has no default escape character: the backslash is itself, the _ still a wildcard.
    expect(sqlLike("a\\xb", likePattern("a\\_b", "sqlite"), "sqlite")).toBe(true);
  });

  it("folds ASCII letters only on SQLite, every letter on PostgreSQL", () => {
    expect(sqlLower("ÉCLAIR Room", "sqlite")).toBe("Éclair room");
    expect(sqlLower("ÉCLAIR Room", "postgres")).toBe("éclair room");
    expect(sqlLike("SPAM", likePattern("spam", "sqlite"), "sqlite")).toBe(true);
    expect(sqlLike("SPAM", likePattern("spam", "postgres"), "postgres")).toBe(false);
  });

  it("searches rooms as Synapse does: name, alias localpart, or the whole room ID", () => {
    const sqlite = roomSearch("Spam", "sqlite");
    expect(sqlite("!a:x", "Big SPAM here", undefined)).toBe(true);
    expect(sqlite("!a:x", "other", "#spamroom:example.org")).toBe(true);
    expect(sqlite("!a:x", "other", "#room:spam.example.org")).toBe(false);
    expect(sqlite("!a:x", "other", undefined)).toBe(false);
    expect(roomSearch("!a:x", "sqlite")("!a:x", "other", undefined)).toBe(true);
    // The search term is lowered in Python (every letter); SQLite's LOWER() leaves É alone.
    expect(roomSearch("éclair", "sqlite")("!a:x", "Éclair", undefined)).toBe(false);
    expect(roomSearch("ÉCLAIR", "postgres")("!a:x", "Éclair", undefined)).toBe(true);
  });
});
