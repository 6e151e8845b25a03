/**
 * Whether the management room is private enough to command Warden from. Anyone who can read
 * it sees every moderation action; anyone who can join it could try commands. So a public
 * join rule or world-readable history makes Warden refuse commands until it is fixed.
 */
export interface ManagementRoomSettings {
  readonly joinRule?: string | undefined;
  readonly historyVisibility?: string | undefined;
}

export function managementRoomProblems(settings: ManagementRoomSettings): string[] {
  const problems: string[] = [];
  if (settings.joinRule === "public") problems.push("anyone can join it (join rule: public)");
  if (settings.historyVisibility === "world_readable") problems.push("anyone can read its history (history visibility: world_readable)");
  return problems;
}
