import type { OutgoingMessage } from "../matrix/chat.js";
import { listLines, textLine } from "./budget.js";
import { code, escapeHtml, truncate } from "./html.js";

export interface ReadyFacts {
  readonly version: string;
  readonly homeserverUrl: string;
  readonly serverVersion: string;
  readonly prefix: string;
  readonly resumedTasks: number;
  readonly damagedFiles: readonly string[];
}

export function renderReady(facts: ReadyFacts): OutgoingMessage {
  const resumed = facts.resumedTasks === 0 ? "" : ` Resumed ${facts.resumedTasks} unfinished task(s).`;
  const warnings = listLines(facts.damagedFiles, (note) => ({ plain: `Warning: ${truncate(note, 500)}`, html: `<b>Warning</b>: ${escapeHtml(truncate(note, 500))}` }), undefined, textLine("(the log names them all)"));
  const plain = [
    `Warden ${facts.version} is ready on ${facts.homeserverUrl} (Synapse ${facts.serverVersion}).${resumed} Type ${facts.prefix}help for the commands.`,
    ...warnings.map((line) => line.plain),
  ];
  const html = [
    `Warden ${escapeHtml(facts.version)} is ready on ${escapeHtml(facts.homeserverUrl)} (Synapse ${escapeHtml(facts.serverVersion)}).${escapeHtml(resumed)} Type ${code(`${facts.prefix}help`)} for the commands.`,
    ...warnings.map((line) => line.html),
  ];
  return { plain: plain.join("\n"), html: html.join("<br>\n") };
}
