import type { AuditReader } from "../audit/auditLog.js";
import { asUserId } from "../matrix/ids.js";
import type { Clock } from "../util/clock.js";
import { err, ok } from "../util/result.js";
import { parsePurgePoint } from "./parsing/arguments.js";
import { defineCommand } from "./spec.js";
import type { AuditOutcome } from "../model/outcomes.js";
import { textFlag } from "./parsing/words.js";

/** Without --since, !audit looks back this far. */
const DEFAULT_PERIOD_MS = 30 * 24 * 3600 * 1000;

export interface AuditDependencies {
  readonly auditLog: AuditReader;
  readonly clock: Clock;
}

export function auditCommand(dependencies: AuditDependencies) {
  return defineCommand<{ readonly since: number; readonly user?: string }>({
    name: "audit",
    summary: "Summarise who did what with Warden, from its own durable log.",
    details: ["Counts each moderator's commands and outcomes, and lists the latest actions.", "Without --since, the last 30 days."],
    positionals: [],
    flags: [
      { name: "since", kind: "text", valueName: "DATE", description: "an ISO date or date-time, epoch milliseconds, or an age such as 7d" },
      { name: "user", kind: "text", valueName: "USER", description: "only this user's actions" },
    ],
    examples: ["!audit", "!audit --since 7d --user @alice:example.org"],
    parse(words) {
      const now = dependencies.clock.now();
      const sinceText = textFlag(words, "since");
      let since = now - DEFAULT_PERIOD_MS;
      if (sinceText !== undefined) {
        const point = parsePurgePoint("--since", sinceText, now);
        if (!point.ok) return point;
        if (point.value.kind !== "time") {
          return err({ argument: "--since", given: sinceText, expected: "a date, a date-time, epoch milliseconds or an age such as 7d" });
        }
        since = point.value.timestamp;
      }
      const userText = textFlag(words, "user");
      if (userText === undefined) return ok({ since });
      const user = asUserId(userText);
      return user === undefined ? err({ argument: "--user", given: userText, expected: "a full user ID such as @alice:example.org" }) : ok({ since, user });
    },
    execute(args) {
      const entries = dependencies.auditLog.query(args);
      const outcome: AuditOutcome = { kind: "audit", since: args.since, entries, ...(args.user === undefined ? {} : { user: args.user }) };
      return Promise.resolve(outcome);
    },
  });
}
