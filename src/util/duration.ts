/** Human durations for chat: "42 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
export function formatDuration(milliseconds: number): string {
  const totalSeconds = Math.max(0, Math.round(milliseconds / 1000));
  const days = Math.floor(totalSeconds / 86_400);
  const hours = Math.floor((totalSeconds % 86_400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return seconds > 0 ? `${minutes} min ${seconds} s` : `${minutes} min`;
  return `${seconds} s`;
}

export function formatUtc(epochMilliseconds: number): string {
  return new Date(epochMilliseconds).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC");
}

// The units of a purge's age, for the same reason: no bare "m", which reads as minutes or months.
const DURATION = /^(\d{1,5})\s*(s|min|h|d)$/;
const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

export interface DurationBounds {
  readonly minMs: number;
  readonly maxMs: number;
}

const DEFAULT_BOUNDS: DurationBounds = { minMs: 10_000, maxMs: 86_400_000 };

/** "90s", "5min", "1h", "2d" to milliseconds, within the bounds (default 10 s to 24 h); undefined otherwise. */
export function parseDuration(text: string, bounds: DurationBounds = DEFAULT_BOUNDS): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const milliseconds = Number(match[1]) * (DURATION_UNITS[match[2] ?? ""] ?? 0);
  return milliseconds >= bounds.minMs && milliseconds <= bounds.maxMs ? milliseconds : undefined;
}
