import type { OutgoingMessage } from "../matrix/chat.js";
import { code, escapeHtml } from "./html.js";

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
  const plain = [
    `Warden ${facts.version} is ready on ${facts.homeserverUrl} (Synapse ${facts.serverVersion}).${resumed} Type ${facts.prefix}help for the commands.`,
    ...facts.damagedFiles.map((note) => `Warning: ${note}`),
  ];
  const html = [
    `Warden ${escapeHtml(facts.version)} is ready on ${escapeHtml(facts.homeserverUrl)} (Synapse ${escapeHtml(facts.serverVersion)}).${escapeHtml(resumed)} Type ${code(`${facts.prefix}help`)} for the commands.`,
    ...facts.damagedFiles.map((note) => `<b>Warning</b>: ${escapeHtml(note)}`),
  ];
  return { plain: plain.join("\n"), html: html.join("<br>\n") };
}
