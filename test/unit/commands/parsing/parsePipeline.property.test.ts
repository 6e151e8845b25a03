import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePurgePoint } from "../../../../src/commands/parsing/arguments.js";
import { usageLine, type ArgumentProblem } from "../../../../src/model/commandSpec.js";
import { splitWords } from "../../../../src/commands/parsing/words.js";
import { renderArgumentProblem } from "../../../../src/render/replies.js";
import { commandFakes } from "../../../fakes/commandDependencies.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";

const { table } = commandFakes();

/** Words that exercise every branch of the splitter and the argument parsers. */
const TOKENS = [
  "--local",
  "--reason",
  "--block",
  "--no-purge",
  "--force-purge",
  "--notify-as",
  "--room-name",
  "--message",
  "--__proto__",
  "--constructor",
  "--toString",
  "--",
  "-",
  "-l",
  "---x",
  "-_",
  "--_=x",
  "--=x",
  "--reason=",
  "--block=yes",
  '"',
  "'",
  '"spam wave"',
  "'it is'",
  "#spam:example.org",
  "!abc:example.org",
  "!mgmt:example.org",
  "$event",
  "https://matrix.to/#/!abc:example.org/$event?via=example.org",
  "https://matrix.to/#/%23spam%3Aexample.org",
  "https://matrix.to/#/%ZZ",
  "1700000000000",
  "1700000000",
  "99999999999999999999",
  "0012",
  "0d",
  "90d",
  "2024-02-30",
  "2024-05-01T12:00",
  "2999-01-01",
  "@abuse:example.org",
  "@abuse",
  "p-3f9a2c",
  "purge",
  "\t",
  "\n",
  "\u00a0",
  "\u0000",
];

const tokenText = fc
  .array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 8 })), { maxLength: 12 })
  .map((words) => words.join(" "));
const anyText = fc.oneof(fc.string({ unit: "binary", maxLength: 300 }), tokenText);

function checkProblem(problem: ArgumentProblem): void {
  expect(problem.argument.trim()).not.toBe("");
  expect(problem.expected.trim()).not.toBe("");
}

describe("the parse pipeline on arbitrary text", () => {
  it("never throws, and either parses or names the bad argument and what was expected", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        for (const command of table) {
          const words = splitWords(text, command);
          const parsed = words.ok ? command.parse(words.value) : words;
          if (!parsed.ok) {
            checkProblem(parsed.error);
            const reply = renderArgumentProblem(parsed.error, command, "!");
            expect(reply.plain).toContain(`Usage: ${usageLine(command, "!")}`);
            expect(reply.html).not.toMatch(/<(?!\/?(b|u|code|br)>)/);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it("keeps any run of digits as the exact text typed", () => {
    const purge = table.find((command) => command.name === "purge");
    if (purge === undefined) throw new Error("no purge command");
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,25}$/), (digits) => {
        const words = splitWords(`!abc:example.org ${digits}`, purge);
        expect(words.ok && words.value.positionals[1]).toBe(digits);
      }),
    );
  });
});

describe("parsePurgePoint on arbitrary text", () => {
  it("never throws and never accepts a time after now", () => {
    fc.assert(
      fc.property(anyText, (word) => {
        const result = parsePurgePoint("<point>", word, FIXED_NOW);
        if (!result.ok) {
          expect(result.error.argument).toBe("<point>");
          expect(result.error.expected).not.toBe("");
        } else if (result.value.kind === "time") {
          expect(Number.isFinite(result.value.timestamp)).toBe(true);
          expect(result.value.timestamp).toBeLessThanOrEqual(FIXED_NOW);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("reads any past instant written as epoch ms, ISO with Z, or ISO without a zone, as that instant", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("1974-01-01T00:00:00Z"), max: new Date(FIXED_NOW), noInvalidDate: true }), (date) => {
        const iso = date.toISOString();
        for (const word of [String(date.getTime()), iso, iso.slice(0, -1), iso.replace("Z", "+00:00")]) {
          const result = parsePurgePoint("<point>", word, FIXED_NOW);
          expect(result.ok && result.value.kind === "time" && result.value.timestamp).toBe(date.getTime());
        }
      }),
    );
  });

  it("reads a date as midnight UTC of that very day, or refuses it as not a real date", () => {
    const pad = (n: number, width: number) => String(n).padStart(width, "0");
    fc.assert(
      fc.property(fc.integer({ min: 1975, max: 2024 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), (year, month, day) => {
        const word = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
        const result = parsePurgePoint("<point>", word, FIXED_NOW);
        if (result.ok) {
          expect(result.value.kind === "time" && new Date(result.value.timestamp).toISOString().slice(0, 10)).toBe(word);
        } else {
          expect(result.error.expected).toContain("a real calendar date");
        }
      }),
      { numRuns: 500 },
    );
  });
});
