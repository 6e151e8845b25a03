import { asUserId, serverNameOf, type UserId } from "../matrix/ids.js";

/** An exact user, or every user of one server (written @*:server.name). */
export type AllowlistEntry = { readonly kind: "user"; readonly userId: UserId } | { readonly kind: "server"; readonly serverName: string };

export function parseAllowlistEntry(text: string): AllowlistEntry | undefined {
  if (text.startsWith("@*:")) {
    const serverName = text.slice(3);
    return asUserId(`@x:${serverName}`) === undefined ? undefined : { kind: "server", serverName };
  }
  const userId = asUserId(text);
  return userId === undefined ? undefined : { kind: "user", userId };
}

/**
 * Exact, case-sensitive comparison of the full sender ID. Display names are never consulted,
 * and no normalisation is applied: "@Alice:example.org" is a different account from "@alice:example.org"
 * as far as an allowlist is concerned, and " @alice:example.org" is not an ID at all.
 */
export function isAllowed(sender: string, allowlist: readonly AllowlistEntry[]): boolean {
  const userId = asUserId(sender);
  if (userId === undefined) return false;
  return allowlist.some((entry) =>
    entry.kind === "user" ? entry.userId === userId : entry.serverName === serverNameOf(userId),
  );
}
