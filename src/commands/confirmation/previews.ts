import type { RoomId } from "../../matrix/ids.js";
import type { RoomDetailsBody, SynapseAdminClient } from "../../synapse/adminClient.js";
import type { PreviewLine } from "../../model/commandSpec.js";

/** Pages of 1000 read at most when estimating a purge: enough to say "at least 5000". */
const ESTIMATE_PAGES = 5;
const PAGE_SIZE = 1_000;

export function roomLines(label: string, details: RoomDetailsBody | undefined): PreviewLine[] {
  if (details === undefined) return [{ label: "Room", value: `${label} (unknown to this homeserver)` }];
  return [
    { label: "Room", value: details.name === null || details.name === undefined || details.name === "" ? label : `"${details.name}" ${label}` },
    { label: "Members", value: `${details.joined_members} joined, ${details.joined_local_members} of them local` },
    { label: "Canonical alias", value: details.canonical_alias ?? "none" },
  ];
}

export interface PurgeEstimate {
  /** Events sent before the cut-off, counted up to the cap. */
  readonly before: number;
  readonly capped: boolean;
}

/**
 * Counts the room's events sent before `cutoff` by paging the admin messages API from the
 * start. An estimate: it counts by sending time, as the purge's time point does, but sees only
 * events still visible to pagination, and stops at the cap.
 */
export async function estimatePurge(
  admin: Pick<SynapseAdminClient, "roomMessages">,
  roomId: RoomId,
  cutoff: number,
): Promise<PurgeEstimate | undefined> {
  let before = 0;
  let from: string | undefined;
  for (let page = 0; page < ESTIMATE_PAGES; page++) {
    const messages = await admin.roomMessages(roomId, { direction: "f", limit: PAGE_SIZE, ...(from === undefined ? {} : { from }) });
    if (!messages.ok) return undefined;
    for (const event of messages.value.chunk) {
      if (event.origin_server_ts >= cutoff) return { before, capped: false };
      // State (name, members, power levels) survives every purge: not counted.
      if (event.state_key !== undefined) continue;
      before++;
    }
    if (messages.value.end === undefined || messages.value.end === null || messages.value.chunk.length === 0) {
      return { before, capped: false };
    }
    from = messages.value.end;
  }
  return { before, capped: true };
}

export function estimateLines(estimate: PurgeEstimate | undefined): PreviewLine[] {
  if (estimate === undefined) return [{ label: "Estimate", value: "could not be made (the room's messages could not be read)" }];
  const count = estimate.capped ? `at least ${estimate.before}` : `about ${estimate.before}`;
  return [{ label: "Estimate", value: `${count} events to remove (messages and other non-state events sent before the point; an estimate)` }];
}
