import { mkdirSync, readFileSync, renameSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { z } from "zod";

export type LoadOutcome<T> =
  | { readonly kind: "loaded"; readonly value: T }
  | { readonly kind: "missing" }
  /** The file could not be read as T; it was moved to `keptAt` so nothing is lost and we do not crash-loop on it. */
  | { readonly kind: "damaged"; readonly path: string; readonly keptAt: string; readonly reason: string };

/** Reads a JSON state file checked by `schema`. A damaged file is renamed aside, never deleted. */
export function loadJsonFile<T>(path: string, schema: z.ZodType<T>, now: () => number = Date.now): LoadOutcome<T> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    throw error;
  }
  let reason: string;
  try {
    const checked = schema.safeParse(JSON.parse(text));
    if (checked.success) return { kind: "loaded", value: checked.data };
    reason = `unexpected content at ${checked.error.issues.map((issue) => issue.path.join(".") || "(top)").join(", ")}`;
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  }
  const keptAt = `${path}.damaged-${new Date(now()).toISOString().replace(/[:.]/g, "-")}`;
  renameSync(path, keptAt);
  return { kind: "damaged", path, keptAt, reason };
}

/**
 * Writes JSON so that a crash or a full disk at any moment leaves either the old file or the
 * new one, never a mix: write a temporary file, flush it to disk, then rename over the old one.
 * Writes to one path are serialised; a failed write leaves the previous content in place.
 */
export class AtomicJsonWriter {
  private queue: Promise<void> = Promise.resolve();
  private sequence = 0;

  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  write(value: unknown): Promise<void> {
    const text = `${JSON.stringify(value, null, 2)}\n`;
    const next = this.queue.then(() => this.writeNow(text));
    // The queue continues after a failure; the failure still reaches this caller.
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every write queued so far has finished, successfully or not. */
  settled(): Promise<void> {
    return this.queue;
  }

  private async writeNow(text: string): Promise<void> {
    const temporary = `${this.path}.tmp-${String(process.pid)}-${String(this.sequence++)}`;
    try {
      const handle = await open(temporary, "w", 0o600);
      try {
        await handle.writeFile(text, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.path);
    } catch (error) {
      // A full disk must not also fill up with half-written temporary files.
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }
}

