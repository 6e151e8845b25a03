import { actionCommand, CARD_REACTIONS, refOf, type CardAction } from "../model/reports.js";
import type { ReportDesk } from "./desk.js";

/** Reaction keys arrive with or without the emoji variation selector. */
function normalise(key: string): string {
  return key.replaceAll("\uFE0F", "");
}

const BY_KEY = new Map((Object.entries(CARD_REACTIONS) as [CardAction, string][]).map(([action, key]) => [normalise(key), action]));

/**
 * The command a reaction on a report card stands for, or undefined when the event is no
 * single report's card or the emoji is not one the card names. An action other than "done"
 * marks the report acknowledged: someone acted on it (the command itself still waits for
 * its preview to be confirmed).
 */
export function cardReactionCommand(desk: Pick<ReportDesk, "reportForCard" | "acknowledge">, prefix: string) {
  return (cardEventId: string, key: string, by: string): string | undefined => {
    const action = BY_KEY.get(normalise(key));
    if (action === undefined) return undefined;
    const report = desk.reportForCard(cardEventId);
    if (report === undefined) return undefined;
    const command = actionCommand(action, report, prefix);
    if (command !== undefined && action !== "done") void desk.acknowledge(refOf(report), by);
    return command;
  };
}
