import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The repository root, found by walking up to package.json so the same code works
 * from `scripts/harness/` (vitest) and from `dist/scripts/harness/` (compiled demo).
 */
export function repositoryRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(directory, "package.json"))) return directory;
    const parent = dirname(directory);
    if (parent === directory) throw new Error("harness: cannot find package.json above " + import.meta.url);
    directory = parent;
  }
}

/** The Python executable of the Synapse venv; throws with the fix when it is missing. */
export function synapsePython(): string {
  const venv = process.env["WARDEN_SYNAPSE_VENV"] ?? join(repositoryRoot(), ".cache", "synapse-venv");
  const python = join(venv, "bin", "python");
  if (!existsSync(python)) {
    throw new Error(
      `harness: no Synapse venv at ${venv}. Run 'bash scripts/synapse/install.sh' first ` +
        "(or point WARDEN_SYNAPSE_VENV at an existing one).",
    );
  }
  return python;
}
