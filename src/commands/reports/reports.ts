import { asRoomId, asUserId } from "../../matrix/ids.js";
import { REPORT_KINDS, type ReportListFilter } from "../../model/reports.js";
import { REPORTS_PER_PAGE } from "../../render/reports.js";
import type { ReportDesk } from "../../reports/desk.js";
import { err, ok } from "../../util/result.js";
import { booleanFlag, textFlag } from "../parsing/words.js";
import { defineCommand } from "../spec.js";
import type { CommandOutcome } from "../../model/outcomes.js";

export interface ReportsDependencies {
  readonly reportDesk: ReportDesk;
}

interface ReportsArguments {
  readonly filter: ReportListFilter;
  readonly from: number;
}

export function reportsCommand(dependencies: ReportsDependencies) {
  return defineCommand<ReportsArguments>({
    name: "reports",
    summary: "List the reports Warden has posted (about events, and about users) that are still open (or all of them), newest first.",
    details: [
      `${REPORTS_PER_PAGE} at a time; the reply ends with the command for the next page.`,
      "Open means not yet resolved: new, or acknowledged (someone acted on it).",
      "Event reports are numbered 12, reports about users u12 (Synapse 1.152 or later): !report takes either.",
    ],
    positionals: [],
    flags: [
      { name: "all", kind: "boolean", description: "resolved reports too" },
      { name: "kind", kind: "text", valueName: "KIND", description: "only event reports (event) or only reports about users (user)" },
      { name: "room", kind: "text", valueName: "ROOM", description: "only reports about this room (a room ID)" },
      { name: "user", kind: "text", valueName: "USER", description: "only reports naming this user, as sender, reported user or reporter" },
      { name: "from", kind: "text", valueName: "N", description: "skip the first N (for the next page)" },
    ],
    examples: ["!reports", "!reports --all --room !abc:example.org", "!reports --user @spammer:example.org", "!reports --kind user"],
    parse(words) {
      const kindText = textFlag(words, "kind");
      const kind = kindText === undefined ? undefined : REPORT_KINDS.find((candidate) => candidate === kindText.toLowerCase());
      if (kindText !== undefined && kind === undefined) return err({ argument: "--kind", given: kindText, expected: "event (reports about events) or user (reports about users)" });
      const roomText = textFlag(words, "room");
      const room = roomText === undefined ? undefined : asRoomId(roomText);
      if (roomText !== undefined && room === undefined) return err({ argument: "--room", given: roomText, expected: "a room ID such as !abc:example.org" });
      if (room !== undefined && kind === "user") return err({ argument: "--room", given: room, expected: "no --room with --kind user: reports about users name no room" });
      const userText = textFlag(words, "user");
      const user = userText === undefined ? undefined : asUserId(userText);
      if (userText !== undefined && user === undefined) return err({ argument: "--user", given: userText, expected: "a full user ID such as @spammer:example.org" });
      const fromText = textFlag(words, "from") ?? "0";
      if (!/^\d{1,6}$/.test(fromText)) return err({ argument: "--from", given: fromText, expected: "a whole number of reports to skip" });
      return ok({
        filter: { includeResolved: booleanFlag(words, "all"), ...(kind === undefined ? {} : { kind }), ...(room === undefined ? {} : { roomId: room }), ...(user === undefined ? {} : { user }) },
        from: Number(fromText),
      });
    },
    execute(args, context): Promise<CommandOutcome> {
      const { reports, total } = dependencies.reportDesk.list(args.filter, args.from, REPORTS_PER_PAGE);
      const next = args.from + reports.length;
      const nextPageCommand =
        next < total
          ? [
              `${context.prefix}reports`,
              ...(args.filter.includeResolved ? ["--all"] : []),
              ...(args.filter.kind === undefined ? [] : ["--kind", args.filter.kind]),
              ...(args.filter.roomId === undefined ? [] : ["--room", args.filter.roomId]),
              ...(args.filter.user === undefined ? [] : ["--user", args.filter.user]),
              "--from",
              String(next),
            ].join(" ")
          : undefined;
      return Promise.resolve({ kind: "report-list", reports, total, from: args.from, filter: args.filter, ...(nextPageCommand === undefined ? {} : { nextPageCommand }) });
    },
  });
}
