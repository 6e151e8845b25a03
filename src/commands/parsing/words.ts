import parser from "yargs-parser";
import { err, ok, type Result } from "../../util/result.js";
import { positionalLabel, type ArgumentProblem, type CommandSpec, type Words } from "../../model/commandSpec.js";

/**
 * The longest command Warden reads, in characters; longer text is refused rather than parsed.
 * It is what one Matrix event carries: a homeserver refuses an event of more than 65,536 bytes
 * of JSON (M_TOO_LARGE), envelope and signatures included (about a kilobyte), so a plain-text
 * message holds at most about 64,500 characters and anything a homeserver delivers passes. A
 * pasted list of over 1,500 room IDs fits; a client that sends an HTML copy beside the text
 * (formatted_body) halves what fits, and its homeserver refuses the rest before Warden sees it.
 */
export const MAX_COMMAND_LENGTH = 64_000;
export const MAX_ARGUMENT_LENGTH = 500;
/** The longest unknown option name a refusal repeats: a pasted text can make one as long as the command. */
const SHOWN_OPTION_LENGTH = 60;

/**
 * yargs-parser turns "1700000000000" into a number and "--no-block" into block=false by
 * default; both would change what a moderator typed, so every such feature is off and each
 * command parses its own words.
 */
const PARSER_CONFIGURATION = {
  "parse-numbers": false,
  "parse-positional-numbers": false,
  "boolean-negation": false,
  "camel-case-expansion": false,
  "dot-notation": false,
  "short-option-groups": false,
  "duplicate-arguments-array": false,
  "greedy-arrays": false,
  "populate--": false,
} as const;

/** Splits the text after the command word and checks flags and counts against the spec. */
export function splitWords(text: string, spec: CommandSpec): Result<Words, ArgumentProblem> {
  const scanned = scanWords(text);
  if (scanned.openQuote !== undefined) {
    return err({ argument: "quotes", expected: 'a closing quote: wrap text with spaces in "double" or \'single\' quotes' });
  }
  const booleanFlags = spec.flags.filter((f) => f.kind === "boolean").map((f) => f.name);
  const textFlags = spec.flags.filter((f) => f.kind === "text").map((f) => f.name);
  // yargs-parser reads "--block=yes" as block=false; a switch given a value is refused instead.
  const switchWithValue = new RegExp(`(^|\\s)--(${booleanFlags.map(escapeRegExp).join("|") || "(?!)"})=`).exec(text);
  if (switchWithValue !== null) {
    return err({ argument: `--${switchWithValue[2] ?? ""}`, expected: "no value: it is a switch" });
  }
  // yargs-parser keeps the positional words under the key "_": a flag of that name overwrote them,
  // or made the parser throw. It is refused as the unknown option it is.
  const underscore = scanned.words.find((word) => /^--?_(=|$)/.test(word));
  if (underscore !== undefined) return err(unknownOption(underscore.replace(/=.*$/, ""), spec));
  // Only a command with a repeatable flag keeps duplicates; every other command parses as before.
  const keepDuplicates = spec.flags.some((f) => f.repeatable === true);
  const parsed = parser.detailed(normaliseWhitespace(text), {
    configuration: { ...PARSER_CONFIGURATION, "duplicate-arguments-array": keepDuplicates },
    boolean: booleanFlags,
    string: textFlags,
  });
  if (parsed.error !== null) return err({ argument: "arguments", expected: parsed.error.message });

  const flags = new Map<string, string | boolean | readonly string[]>();
  for (const [key, value] of Object.entries(parsed.argv)) {
    if (key === "_") continue;
    const flag = spec.flags.find((f) => f.name === key);
    if (flag === undefined) return err(unknownOption(`--${key}`, spec));
    if (flag.kind === "text") {
      // With duplicates kept, a flag given several times is a list; a non-repeatable one keeps its last value.
      const given: unknown[] = Array.isArray(value) ? value : [value];
      const values: string[] = [];
      for (const one of flag.repeatable === true ? given : given.slice(-1)) {
        if (typeof one !== "string" || one.trim() === "") {
          return err({ argument: `--${key}`, expected: `a value: --${key} ${flag.valueName ?? "TEXT"} (quote text with spaces)` });
        }
        if (one.length > MAX_ARGUMENT_LENGTH) {
          return err({ argument: `--${key}`, expected: `at most ${MAX_ARGUMENT_LENGTH} characters (got ${one.length})` });
        }
        values.push(one);
      }
      flags.set(key, flag.repeatable === true ? values : (values[0] ?? ""));
    } else {
      if (typeof value !== "boolean") return err({ argument: `--${key}`, expected: "no value: it is a switch" });
      flags.set(key, value);
    }
  }

  const positionals = parsed.argv._.map((word) => stripQuotes(String(word)));
  // A repeatable positional takes any number of words; its command's parse counts them.
  const repeatable = spec.positionals.some((p) => p.repeatable === true);
  const required = spec.positionals.filter((p) => p.optional !== true && p.repeatable !== true).length;
  if (positionals.length < required) {
    const missing = spec.positionals[positionals.length];
    // Named as one value ("<room>", not "<room>..."): that is what is missing.
    return err({ argument: missing === undefined ? "arguments" : positionalLabel(missing).replace(/\.\.\.$/, ""), expected: missing?.description ?? "more arguments" });
  }
  if (!repeatable && positionals.length > spec.positionals.length && spec.positionals.at(-1)?.variadic !== true) {
    const extra = positionals[spec.positionals.length] ?? "";
    return err({
      argument: "arguments",
      given: extra,
      expected: `at most ${spec.positionals.length} argument${spec.positionals.length === 1 ? "" : "s"}; quote text that contains spaces`,
    });
  }
  const tooLong = positionals.find((word) => word.length > MAX_ARGUMENT_LENGTH);
  if (tooLong !== undefined) {
    return err({ argument: "arguments", expected: `each argument at most ${MAX_ARGUMENT_LENGTH} characters (got ${tooLong.length})` });
  }
  return ok({ positionals, flags });
}

function unknownOption(argument: string, spec: CommandSpec): ArgumentProblem {
  const misplaced = spec.misplacedFlags?.find((flag) => `--${flag.name}` === argument);
  if (misplaced !== undefined) return { argument, expected: misplaced.expected };
  const known = spec.flags.map((f) => `--${f.name}`).join(", ");
  // Cut without splitting a surrogate pair, which no JSON encoder sends as it is.
  const shown = argument.length <= SHOWN_OPTION_LENGTH ? argument : `${argument.slice(0, SHOWN_OPTION_LENGTH).replace(/[\uD800-\uDBFF]$/, "")}… (${argument.length} characters)`;
  return { argument: shown, expected: known === "" ? "no options: this command takes none" : `one of the options ${known}` };
}

/**
 * The words of the text split on whitespace outside quotes (a quoted part stays in its word),
 * and the quote still open at the end, if any.
 */
function scanWords(text: string): { words: string[]; openQuote: string | undefined } {
  const words: string[] = [];
  let word = "";
  let open: string | undefined;
  for (const character of text) {
    if (open === undefined && /\s/.test(character)) {
      if (word !== "") words.push(word);
      word = "";
      continue;
    }
    if (open === undefined && (character === '"' || character === "'")) open = character;
    else if (character === open) open = undefined;
    word += character;
  }
  if (word !== "") words.push(word);
  return { words, openQuote: open };
}

/** yargs-parser splits on spaces only: tabs and line breaks outside quotes become spaces. */
function normaliseWhitespace(text: string): string {
  let result = "";
  let open: string | undefined;
  for (const character of text) {
    if (open === undefined && /\s/.test(character)) {
      result += " ";
      continue;
    }
    if (open === undefined && (character === '"' || character === "'")) open = character;
    else if (character === open) open = undefined;
    result += character;
  }
  return result;
}

/** yargs-parser strips quotes from flag values but not from positional words. */
function stripQuotes(word: string): string {
  const first = word[0];
  return word.length >= 2 && (first === '"' || first === "'") && word.endsWith(first) ? word.slice(1, -1) : word;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function textFlag(words: Words, name: string): string | undefined {
  const value = words.flags.get(name);
  return typeof value === "string" ? value : undefined;
}

/** Every value of a repeatable text flag, in the order typed; empty when it was not given. */
export function textFlags(words: Words, name: string): readonly string[] {
  const value = words.flags.get(name);
  if (typeof value === "string") return [value];
  return typeof value === "boolean" || value === undefined ? [] : value;
}

export function booleanFlag(words: Words, name: string): boolean {
  return words.flags.get(name) === true;
}
