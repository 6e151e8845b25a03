/**
 * SQL `LIKE` as Synapse's room search meets it. Synapse lower-cases the search term in Python
 * (every letter) and wraps it in `%…%` without escaping it, so `_` and `%` typed by a moderator
 * are wildcards. The two databases then differ: SQLite's LOWER() and LIKE fold ASCII letters
 * only and know no escape character; PostgreSQL's LOWER() folds every letter and its LIKE takes
 * a backslash as the escape character and is otherwise case-sensitive.
 */
export type DatabaseEngine = "sqlite" | "postgres";

/** What the database's LOWER() makes of a stored value. */
export function sqlLower(text: string, engine: DatabaseEngine): string {
  return engine === "postgres" ? text.toLowerCase() : text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** A LIKE pattern as a regular expression for `engine`. */
export function likePattern(pattern: string, engine: DatabaseEngine): RegExp {
  let source = "";
  // By code point: `_` stands for one character, as both databases count them, not one UTF-16 unit.
  const characters = Array.from(engine === "sqlite" ? sqlLower(pattern, "sqlite") : pattern);
  for (let index = 0; index < characters.length; index++) {
    const character = characters[index] ?? "";
    if (engine === "postgres" && character === "\\") {
      // A trailing backslash is an error in PostgreSQL; the simulator reads it as itself.
      const next = characters[index + 1];
      source += escapeRegExp(next ?? "\\");
      index++;
      continue;
    }
    if (character === "%") source += "[\\s\\S]*";
    else if (character === "_") source += "[\\s\\S]";
    else source += escapeRegExp(character);
  }
  // SQLite's LIKE ignores the case of ASCII letters only: both sides are folded that way instead
  // of with the `i` flag, which would fold more.
  return new RegExp(`^${source}$`, "u");
}

/** Whether `text` is LIKE `pattern`, as `engine` compares them. */
export function sqlLike(text: string, pattern: RegExp, engine: DatabaseEngine): boolean {
  return pattern.test(engine === "sqlite" ? sqlLower(text, "sqlite") : text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}

/**
 * Synapse's room search (get_rooms_paginate): the term, lower-cased by Python, inside LIKE
 * patterns for the lower-cased name and canonical alias, or equal to the whole room ID.
 */
export function roomSearch(term: string, engine: DatabaseEngine): (roomId: string, name: string | undefined, alias: string | undefined) => boolean {
  const lowered = term.toLowerCase();
  const namePattern = likePattern(`%${lowered}%`, engine);
  const aliasPattern = likePattern(`#%${lowered}%:%`, engine);
  return (roomId, name, alias) =>
    roomId === term ||
    (name !== undefined && sqlLike(sqlLower(name, engine), namePattern, engine)) ||
    (alias !== undefined && sqlLike(sqlLower(alias, engine), aliasPattern, engine));
}
