import type { UserId } from "../../matrix/ids.js";
import { parseReportLabel, reportLabel, type ReportRef } from "../../model/reports.js";
import type { ReportDesk } from "../../reports/desk.js";
import { err, ok } from "../../util/result.js";
import { defineCommand } from "../spec.js";
import type { CommandOutcome } from "../../model/outcomes.js";

export interface ReportDependencies {
  readonly reportDesk: ReportDesk;
}

const ACTIONS = ["show", "done", "dismiss", "ack"] as const;
type ReportAction = (typeof ACTIONS)[number];

export function reportCommand(dependencies: ReportDependencies) {
  return defineCommand<{ readonly report: ReportRef; readonly action: ReportAction }>({
    name: "report",
    summary: "Show one report (about an event, or about a user) in full, or close it: done resolves it; dismiss resolves it and then deletes it on the homeserver.",
    details: [
      "<id> as on the report's card: a plain number (12) is an event report, u and a number (u12) a report about a user (Synapse 1.152 or later); each kind has its own numbers.",
      "done: resolved in Warden's database; the homeserver keeps the report.",
      "dismiss: resolved in Warden's database first, then deleted with Synapse's admin API (DELETE event_reports/<id>, or user_reports/<id>), only if the homeserver's report with that id is still this one (Synapse hands a deleted newest id out again after a restart); a failed deletion can be retried with the same command.",
      "ack: acknowledged (someone is acting on it); it stays in !reports.",
      "Who did what is kept in the audit log (!audit).",
    ],
    positionals: [
      { name: "id", description: "Warden's number for the report, as on its card: 12 for an event report, u12 for a report about a user" },
      { name: "action", description: "done, dismiss or ack; without it the report is shown", optional: true },
    ],
    flags: [],
    examples: ["!report 12", "!report 12 done", "!report u3 dismiss"],
    parse(words) {
      const idText = words.positionals[0] ?? "";
      const report = parseReportLabel(idText);
      if (report === undefined) {
        return err({ argument: "<id>", given: idText, expected: "a report id as on the report's card: a whole number (12) for an event report, or u and a whole number (u12) for a report about a user" });
      }
      const actionText = (words.positionals[1] ?? "show").toLowerCase();
      const action = ACTIONS.find((candidate) => candidate === actionText);
      if (action === undefined) return err({ argument: "[action]", given: words.positionals[1] ?? "", expected: "done, dismiss or ack" });
      if (words.positionals.length > 2) return err({ argument: "[action]", given: words.positionals.slice(2).join(" "), expected: "nothing after the action" });
      return ok({ report, action });
    },
    async execute(args, context): Promise<CommandOutcome> {
      const desk = dependencies.reportDesk;
      if (args.action === "show") {
        const card = await desk.card(args.report);
        const what = args.report.kind === "user" ? "report about a user" : "report";
        return card === undefined
          ? { kind: "refused", reason: `Warden has no ${what} ${reportLabel(args.report)}: it knows the reports it posted here (see ${context.prefix}reports --all).` }
          : { kind: "report-one", card };
      }
      const by: UserId = context.requester;
      const changed = args.action === "ack" ? await desk.acknowledge(args.report, by) : await desk.resolve(args.report, by, args.action === "done" ? "done" : "dismissed");
      return changed.ok ? changed.value : { kind: "refused", reason: changed.error };
    },
  });
}
