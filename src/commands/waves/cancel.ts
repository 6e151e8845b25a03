import type { WaveControl } from "../../model/waves.js";
import { err, ok } from "../../util/result.js";
import { defineCommand } from "../spec.js";
import type { CommandOutcome } from "../../model/outcomes.js";

/** Wave ids as Warden shows them: w- and six hex digits. */
export const WAVE_ID = /^w-[0-9a-f]{6}$/;

export interface CancelDependencies {
  readonly waves: Pick<WaveControl, "cancel">;
}

export function cancelCommand(dependencies: CancelDependencies) {
  return defineCommand<{ readonly waveId: string }>({
    name: "cancel",
    summary: "Stop a wave: rooms not yet sent are not sent, and a pending purge phase is dropped; jobs already with the homeserver run to their end and are reported.",
    details: ["Anyone on the allowlist may cancel a wave. The wave's board and summary say who cancelled it."],
    positionals: [{ name: "wave-id", description: "a wave id such as w-4c1e0a, as shown on the wave's board" }],
    flags: [],
    examples: ["!cancel w-4c1e0a"],
    parse(words) {
      const waveId = words.positionals[0] ?? "";
      if (words.positionals.length > 1) return err({ argument: "arguments", given: words.positionals[1] ?? "", expected: "one wave id" });
      if (!WAVE_ID.test(waveId)) return err({ argument: "<wave-id>", given: waveId, expected: "a wave id such as w-4c1e0a (tasks such as p-3f9a2c cannot be cancelled: the homeserver has no way to stop them)" });
      return ok({ waveId });
    },
    async execute(args, context): Promise<CommandOutcome> {
      const cancelled = await dependencies.waves.cancel(args.waveId, context.requester);
      if (!cancelled.ok) return { kind: "refused", reason: cancelled.error, hint: `${context.prefix}status ${args.waveId} shows the wave.` };
      const view = cancelled.value;
      const notSent = view.rooms.filter((room) => room.state === "cancelled").length;
      return { kind: "wave-cancelled", view, notSent };
    },
  });
}
