import { helpCommand } from "./help.js";
import { purgeCommand, type PurgeDependencies } from "./purge.js";
import { shutdownCommand, type ShutdownDependencies } from "./shutdown.js";
import type { Command } from "./spec.js";
import { statusCommand, type StatusDependencies } from "./status.js";

export type CommandDependencies = PurgeDependencies & ShutdownDependencies & StatusDependencies;

/** Every command Warden knows, in the order help lists them. */
export function buildCommandTable(dependencies: CommandDependencies): readonly Command[] {
  const table: Command[] = [purgeCommand(dependencies), shutdownCommand(dependencies), statusCommand(dependencies)];
  table.push(helpCommand(() => table));
  return table;
}

/** The known command closest to a mistyped one, if any is close enough to be a likely typo. */
export function closestCommand(word: string, table: readonly Command[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const command of table) {
    const distance = editDistance(word.toLowerCase(), command.name);
    if (best === undefined || distance < best.distance) best = { name: command.name, distance };
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
