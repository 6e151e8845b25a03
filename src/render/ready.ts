import type { OutgoingMessage } from "../matrix/chat.js";
import { listLines, textLine } from "./budget.js";
import { code, escapeHtml, truncate } from "./html.js";

export interface ReadyFacts {
  readonly version: string;
  readonly homeserverUrl: string;
  /** Where the admin API answered; named only when it is not homeserverUrl. */
  readonly adminUrl?: string;
  readonly serverVersion: string;
  readonly prefix: string;
  readonly resumedTasks: number;
  readonly damagedFiles: readonly string[];
}

export function renderReady(facts: ReadyFacts): OutgoingMessage {
  // Both addresses when they differ, so whoever reads the room knows which one answers the admin API.
  const adminElsewhere = facts.adminUrl !== undefined && facts.adminUrl !== facts.homeserverUrl ? facts.adminUrl : undefined;
  const where = adminElsewhere === undefined ? facts.homeserverUrl : `${facts.homeserverUrl}, admin API at ${adminElsewhere}`;
  const resumed = facts.resumedTasks === 0 ? "" : ` Resumed ${facts.resumedTasks} unfinished task(s).`;
  const warnings = listLines(facts.damagedFiles, (note) => ({ plain: `Warning: ${truncate(note, 500)}`, html: `<b>Warning</b>: ${escapeHtml(truncate(note, 500))}` }), undefined, textLine("(the log names them all)"));
  const plain = [
    `Warden ${facts.version} is ready on ${where} (Synapse ${facts.serverVersion}).${resumed} Type ${facts.prefix}help for the commands.`,
    ...warnings.map((line) => line.plain),
  ];
  const html = [
    `Warden ${escapeHtml(facts.version)} is ready on ${escapeHtml(where)} (Synapse ${escapeHtml(facts.serverVersion)}).${escapeHtml(resumed)} Type ${code(`${facts.prefix}help`)} for the commands.`,
    ...warnings.map((line) => line.html),
  ];
  return { plain: plain.join("\n"), html: html.join("<br>\n") };
}
