import { err, ok } from "../util/result.js";
import type { ConfirmationFlow } from "./confirmation/confirmationFlow.js";
import { defineCommand } from "./spec.js";

export function confirmCommand(flow: Pick<ConfirmationFlow, "confirm">) {
  return defineCommand<{ readonly id: string }>({
    name: "confirm",
    summary: "Run a previewed destructive command (only its requester, within the confirmation window).",
    details: ["Reacting with ✅ to the preview does the same."],
    positionals: [{ name: "id", description: "the id shown in the preview, such as c-3f9a2c" }],
    flags: [],
    examples: ["!confirm c-3f9a2c"],
    parse(words) {
      const id = words.positionals[0] ?? "";
      return /^c-[0-9a-f]{6}$/.test(id) ? ok({ id }) : err({ argument: "<id>", given: id, expected: "a confirmation id such as c-3f9a2c, as shown in the preview" });
    },
    execute: (args, context) => flow.confirm(args.id, context.requester),
  });
}
