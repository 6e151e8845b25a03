import { describe, expect, it } from "vitest";
import { type Command } from "../../../../src/commands/spec.js";
import { usageLine, type ArgumentProblem, type Words } from "../../../../src/model/commandSpec.js";
import { booleanFlag, MAX_ARGUMENT_LENGTH, splitWords, textFlag, textFlags } from "../../../../src/commands/parsing/words.js";
import type { Result } from "../../../../src/util/result.js";
import { commandFakes } from "../../../fakes/commandDependencies.js";

const table = commandFakes().table;

function command(name: string): Command {
  const found = table.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no command ${name} in the table`);
  return found;
}

function split(name: string, text: string): Result<Words, ArgumentProblem> {
  return splitWords(text, command(name));
}

function wordsOf(result: Result<Words, ArgumentProblem>): Words {
  if (!result.ok) throw new Error(`expected words, got ${JSON.stringify(result.error)}`);
  return result.value;
}

function problemOf(result: Result<Words, ArgumentProblem>): ArgumentProblem {
  if (result.ok) throw new Error(`expected a problem, got ${JSON.stringify([...result.value.positionals])}`);
  return result.error;
}

function flagsOf(words: Words): Record<string, string | boolean | readonly string[]> {
  return Object.fromEntries(words.flags);
}

describe("splitWords: quoting and flags", () => {
  it("unquotes a double- and a single-quoted flag value", () => {
    const doubled = wordsOf(split("purge", '#spam:example.org 30d --reason "spam wave from remote"'));
    expect(doubled.positionals).toEqual(["#spam:example.org", "30d"]);
    expect(textFlag(doubled, "reason")).toBe("spam wave from remote");

    const single = wordsOf(split("purge", "#spam:example.org 30d --reason 'it is \"bad\"'"));
    expect(textFlag(single, "reason")).toBe('it is "bad"');
  });

  it("unquotes quoted positional words", () => {
    expect(wordsOf(split("purge", '"#spam:example.org" \'30d\'')).positionals).toEqual(["#spam:example.org", "30d"]);
    expect(wordsOf(split("status", '"p-3f9a2c"')).positionals).toEqual(["p-3f9a2c"]);
  });

  it("accepts flags before, between and after the positional words", () => {
    const before = wordsOf(split("purge", "--local --reason spam #spam:example.org 30d"));
    const between = wordsOf(split("purge", "#spam:example.org --local 30d --reason spam"));
    const after = wordsOf(split("purge", "#spam:example.org 30d --reason spam --local"));
    for (const words of [before, between, after]) {
      expect(words.positionals).toEqual(["#spam:example.org", "30d"]);
      expect(flagsOf(words)).toEqual({ local: true, reason: "spam" });
    }
  });

  it("reads every shutdown flag", () => {
    const words = wordsOf(
      split(
        "shutdown",
        '!abc:example.org --block --no-purge --force-purge --notify-as @abuse:example.org --room-name "Closed room" --message "This room was closed."',
      ),
    );
    expect(words.positionals).toEqual(["!abc:example.org"]);
    expect(flagsOf(words)).toEqual({
      block: true,
      "no-purge": true,
      "force-purge": true,
      "notify-as": "@abuse:example.org",
      "room-name": "Closed room",
      message: "This room was closed.",
    });
    expect(booleanFlag(words, "block")).toBe(true);
  });

  it("leaves switches that were not given unset", () => {
    const words = wordsOf(split("shutdown", "!abc:example.org"));
    expect(flagsOf(words)).toEqual({});
    expect(booleanFlag(words, "block")).toBe(false);
    expect(textFlag(words, "message")).toBeUndefined();
  });

  it("keeps numbers as the exact text typed", () => {
    expect(wordsOf(split("purge", "!abc:example.org 1700000000000")).positionals).toEqual(["!abc:example.org", "1700000000000"]);
    expect(wordsOf(split("purge", "!abc:example.org 0012")).positionals).toEqual(["!abc:example.org", "0012"]);
    expect(wordsOf(split("purge", "!abc:example.org 1e3")).positionals).toEqual(["!abc:example.org", "1e3"]);
    expect(wordsOf(split("purge", "!abc:example.org 0x10")).positionals).toEqual(["!abc:example.org", "0x10"]);
    expect(textFlag(wordsOf(split("purge", "!abc:example.org 30d --reason 0012")), "reason")).toBe("0012");
    expect(textFlag(wordsOf(split("purge", "!abc:example.org 30d --reason 1700000000000")), "reason")).toBe("1700000000000");
  });

  it("separates words on tabs and line breaks as on spaces", () => {
    expect(wordsOf(split("purge", "#spam:example.org\t30d")).positionals).toEqual(["#spam:example.org", "30d"]);
    expect(wordsOf(split("purge", "#spam:example.org\n30d\n--local")).positionals).toEqual(["#spam:example.org", "30d"]);
  });
});

describe("splitWords: problems", () => {
  it("names an unknown flag and lists the known ones", () => {
    const problem = problemOf(split("purge", "#spam:example.org 30d --force"));
    expect(problem.argument).toBe("--force");
    expect(problem.expected).toBe("one of the options --local, --reason, --matching, --space, --empty, --all, --yes, --dry-run");
  });

  it("says a command without options takes none", () => {
    const problem = problemOf(split("tasks", "--all"));
    expect(problem).toEqual({ argument: "--all", expected: "no options: this command takes none" });
  });

  it("does not accept --no-<switch> as a negation of a purge switch", () => {
    const problem = problemOf(split("purge", "#spam:example.org 30d --no-local"));
    expect(problem.argument).toBe("--no-local");
  });

  it("names a missing positional argument with what it expects", () => {
    // Several rooms are allowed, so a purge's missing point is told by its parse (see the wave command tests).
    const noRoom = problemOf(split("purge", "--local"));
    expect(noRoom.argument).toBe("<room>");
    expect(noRoom.expected).toContain("a room ID");

    const noUser = problemOf(split("redact", "--yes"));
    expect(noUser.argument).toBe("<user>");
    expect(noUser.expected).toContain("full user ID");
  });

  it("refuses too many words, shows the first extra one and suggests quoting", () => {
    const problem = problemOf(split("room", "#spam:example.org spam wave"));
    expect(problem).toEqual({
      argument: "arguments",
      given: "spam",
      expected: "at most 1 argument; quote text that contains spaces",
    });
    const one = problemOf(split("status", "p-3f9a2c p-000000"));
    expect(one.expected).toBe("at most 1 argument; quote text that contains spaces");
  });

  it("takes any number of words for a repeatable positional, several rooms for instance", () => {
    expect(wordsOf(split("purge", "!a:example.org !b:example.org !c:example.org 30d")).positionals).toHaveLength(4);
    expect(wordsOf(split("shutdown", "--matching spam")).positionals).toEqual([]);
  });

  it.each(["--reason", "--reason --local", '--reason ""', "--reason '   '", "--reason="])(
    "refuses the text flag without a value: %s",
    (flags) => {
      const problem = problemOf(split("purge", `#spam:example.org 30d ${flags}`));
      expect(problem.argument).toBe("--reason");
      expect(problem.expected).toContain("a value: --reason TEXT");
    },
  );

  it("names the value placeholder of the flag that lacks one", () => {
    expect(problemOf(split("shutdown", "!abc:example.org --notify-as")).expected).toContain("--notify-as USER");
  });

  it.each(['#spam:example.org 30d --reason "spam wave', "#spam:example.org 30d --reason 'spam", '"#spam:example.org 30d'])(
    "refuses an unbalanced quote: %s",
    (text) => {
      const problem = problemOf(split("purge", text));
      expect(problem.argument).toBe("quotes");
      expect(problem.expected).toContain("a closing quote");
    },
  );

  it("refuses an over-long positional argument", () => {
    const long = `$${"a".repeat(MAX_ARGUMENT_LENGTH)}`;
    const problem = problemOf(split("purge", `#spam:example.org ${long}`));
    expect(problem.argument).toBe("arguments");
    expect(problem.expected).toBe(`each argument at most ${MAX_ARGUMENT_LENGTH} characters (got ${MAX_ARGUMENT_LENGTH + 1})`);
  });

  it("refuses an over-long flag value and accepts one at the limit", () => {
    const problem = problemOf(split("purge", `#spam:example.org 30d --reason ${"r".repeat(MAX_ARGUMENT_LENGTH + 1)}`));
    expect(problem.argument).toBe("--reason");
    expect(problem.expected).toContain(`at most ${MAX_ARGUMENT_LENGTH} characters`);
    const atLimit = wordsOf(split("purge", `#spam:example.org 30d --reason ${"r".repeat(MAX_ARGUMENT_LENGTH)}`));
    expect(textFlag(atLimit, "reason")).toHaveLength(MAX_ARGUMENT_LENGTH);
  });

  // yargs-parser turns any such value into true or false; "--block=yes" silently meant no block.
  it.each(["--block=yes", "--block=1"])("refuses a value given to a switch: %s", (flag) => {
    const problem = problemOf(split("shutdown", `!abc:example.org ${flag}`));
    expect(problem.argument).toBe("--block");
    expect(problem.expected).toContain("no value");
  });
});

describe("splitWords: hostile flag names", () => {
  it.each(["--__proto__", "--__proto__ x", "--constructor", "--toString", "--hasOwnProperty", "--__proto__.polluted yes", "--constructor.prototype.polluted yes"])(
    "treats %s as an unknown flag and pollutes nothing",
    (flag) => {
      const result = split("purge", `#spam:example.org 30d ${flag}`);
      const problem = problemOf(result);
      expect(problem.argument.startsWith("--")).toBe(true);
      expect(problem.expected).toBe("one of the options --local, --reason, --matching, --space, --empty, --all, --yes, --dry-run");
      const probe: Record<string, unknown> = {};
      expect(probe["polluted"]).toBeUndefined();
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
    },
  );

  it("never reports a flag that was not typed as set", () => {
    const words = wordsOf(split("purge", "#spam:example.org 30d"));
    expect(words.flags.size).toBe(0);
    expect(booleanFlag(words, "constructor")).toBe(false);
    expect(textFlag(words, "__proto__")).toBeUndefined();
    expect(textFlag(words, "toString")).toBeUndefined();
  });
});

describe("splitWords: repeatable text flags", () => {
  it("keeps every value of a repeatable flag, in the order typed, wherever the flags stand", () => {
    const words = wordsOf(split("redact", '--room #a:example.org @spammer:example.org --room=!b:example.org --reason spam --room "#c:example.org"'));
    expect(words.positionals).toEqual(["@spammer:example.org"]);
    expect(textFlags(words, "room")).toEqual(["#a:example.org", "!b:example.org", "#c:example.org"]);
    expect(flagsOf(words)).toEqual({ room: ["#a:example.org", "!b:example.org", "#c:example.org"], reason: "spam" });
  });

  it("gives a repeatable flag typed once as a list of one, and an absent one as an empty list", () => {
    expect(textFlags(wordsOf(split("redact", "@spammer:example.org --room #a:example.org")), "room")).toEqual(["#a:example.org"]);
    expect(textFlags(wordsOf(split("redact", "@spammer:example.org")), "room")).toEqual([]);
    // A repeatable flag is never read as a single value.
    expect(textFlag(wordsOf(split("redact", "@spammer:example.org --room #a:example.org")), "room")).toBeUndefined();
  });

  it.each(["--room #a:example.org --room", "--room --room #a:example.org", "--room #a:example.org --room ''", "--room= --room #a:example.org"])(
    "refuses any occurrence without a value: %s",
    (flags) => {
      const problem = problemOf(split("redact", `@spammer:example.org ${flags}`));
      expect(problem).toEqual({ argument: "--room", expected: "a value: --room ROOM (quote text with spaces)" });
    },
  );

  it("refuses an over-long value among several", () => {
    const problem = problemOf(split("redact", `@spammer:example.org --room #a:example.org --room ${"r".repeat(MAX_ARGUMENT_LENGTH + 1)}`));
    expect(problem.argument).toBe("--room");
    expect(problem.expected).toContain(`at most ${MAX_ARGUMENT_LENGTH} characters`);
  });

  it("keeps the last value of a non-repeatable flag given twice, beside a repeatable one as in every other command", () => {
    const redact = wordsOf(split("redact", "@spammer:example.org --reason first --room #a:example.org --reason second"));
    expect(textFlag(redact, "reason")).toBe("second");
    const purge = wordsOf(split("purge", "#spam:example.org 30d --reason first --reason second"));
    expect(textFlag(purge, "reason")).toBe("second");
    expect(problemOf(split("redact", "@spammer:example.org --reason first --reason")).argument).toBe("--reason");
  });

  it("reads a switch given twice as set, beside a repeatable flag", () => {
    expect(booleanFlag(wordsOf(split("redact", "@spammer:example.org --yes --yes --room #a:example.org")), "yes")).toBe(true);
  });

  it("shows a repeatable flag with ... in the usage line", () => {
    expect(usageLine(command("redact"), "!")).toBe("!redact <user> [--room ROOM ...] [--reason TEXT] [--limit N] [--yes] [--dry-run]");
    expect(usageLine(command("purge"), "!")).toBe("!purge <room>... <point> [--local] [--reason TEXT] [--matching WORDS] [--space ROOM] [--empty] [--all] [--yes] [--dry-run]");
  });
});

// yargs-parser keeps the positional words under the key "_": a flag named _ overwrote them, and
// "!purge -_" threw instead of answering (found by the property test on arbitrary text).
describe("splitWords: a flag named _", () => {
  it.each([
    ["-_", "-_"],
    ["!r:x 30d -_", "-_"],
    ["!r:x --_ x", "--_"],
    ["!r:x --_=x 30d", "--_"],
    ["!r:x -_=1 30d", "-_"],
  ])("refuses %s, naming %s and the options the command takes", (text, flag) => {
    const problem = problemOf(split("purge", text));
    expect(problem.argument).toBe(flag);
    expect(problem.expected).toBe("one of the options --local, --reason, --matching, --space, --empty, --all, --yes, --dry-run");
  });

  it("refuses it for a command with a repeatable flag too", () => {
    expect(problemOf(split("redact", "@u:x --room !a:x -_")).argument).toBe("-_");
  });

  it("leaves -_ inside quoted text alone", () => {
    const words = wordsOf(split("purge", '!r:x 30d --reason "a -_ b"'));
    expect(words.positionals).toEqual(["!r:x", "30d"]);
    expect(flagsOf(words)).toEqual({ reason: "a -_ b" });
  });
});
