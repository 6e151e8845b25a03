import { afterEach } from "vitest";
import { ConfirmationBook } from "../../../../src/commands/confirmation/confirmations.js";
import { ConfirmationFlow } from "../../../../src/commands/confirmation/confirmationFlow.js";
import { splitWords } from "../../../../src/commands/parsing/words.js";
import { buildCommandTable, type CommandDependencies } from "../../../../src/commands/table.js";
import type { Command, CommandContext } from "../../../../src/commands/spec.js";
import type { ConfirmationKind } from "../../../../src/model/commandSpec.js";
import type { CommandOutcome } from "../../../../src/model/outcomes.js";
import { renderOutcome } from "../../../../src/render/replies.js";
import { commandFakes, MANAGEMENT_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";
import { MemoryLogger } from "../../../fakes/memoryLogger.js";
import { RecordingChat } from "../../../fakes/recordingChat.js";
import { CONTEXT, REQUESTER } from "../../../fakes/runCommand.js";

const flows: ConfirmationFlow[] = [];

afterEach(() => {
  for (const flow of flows.splice(0)) flow.stop();
});

/**
 * The account commands from the command table behind a real confirmation flow, as the
 * dispatcher runs them: split, parse, gate (the preview), execute or !confirm by the requester.
 * The homeserver has the spammers @spam1 and @spam2, a server admin @boss and the moderator
 * @mod (allowlisted) as accounts; `protectedUsers` lists @vip:example.org and every user of partner.org.
 */
export class Moderator {
  readonly fakes: CommandFakes = commandFakes();
  readonly chat = new RecordingChat();
  readonly flow: ConfirmationFlow;
  readonly dependencies: CommandDependencies;
  readonly table: readonly Command[];
  private commands = 0;

  constructor(confirmBefore: readonly ConfirmationKind[] = []) {
    this.flow = new ConfirmationFlow(new ConfirmationBook(this.fakes.clock, 300_000), new Set(confirmBefore), this.chat, MANAGEMENT_ROOM, "!", new MemoryLogger().log);
    flows.push(this.flow);
    this.dependencies = {
      ...this.fakes.dependencies,
      userSafety: {
        ...this.fakes.dependencies.userSafety,
        protectedUsers: [
          { kind: "user", userId: "@vip:example.org" as never },
          { kind: "server", serverName: "partner.org" },
        ],
      },
    };
    this.table = buildCommandTable(this.dependencies);
    const accounts = this.fakes.admin;
    accounts.addAccount("@spam1:example.org");
    accounts.addAccount("@spam2:example.org");
    accounts.addAccount("@boss:example.org", { admin: true });
    accounts.addAccount("@mod:example.org");
    accounts.addAccount("@vip:example.org");
    accounts.addAccount("@warden:example.org", { admin: true });
  }

  command(name: string): Command {
    const found = this.table.find((command) => command.name === name);
    if (found === undefined) throw new Error(`the table has no !${name}`);
    return found;
  }

  /** Sends `!<text>`; "shown" when a preview waits (or was shown as a dry run), else the outcome. */
  async send(text: string): Promise<"shown" | CommandOutcome> {
    const [name = "", ...rest] = text.replace(/^!/, "").split(" ");
    const command = this.command(name);
    const split = splitWords(rest.join(" "), command);
    if (!split.ok) throw new Error(`test text does not split: ${JSON.stringify(split.error)}`);
    const parsed = command.parse(split.value);
    if (!parsed.ok) throw new Error(`test text does not parse: ${JSON.stringify(parsed.error)}`);
    this.commands++;
    const context: CommandContext = { ...CONTEXT, commandEventId: `$account-${this.commands}` };
    return (await this.flow.gate(command, parsed.value, split.value, context)) ?? command.execute(parsed.value, context);
  }

  /** Sends a command that must run at once, and returns its reply's text. */
  async reply(text: string): Promise<string> {
    const outcome = await this.send(text);
    if (outcome === "shown") throw new Error(`${text} showed a preview: ${this.lastPreview()}`);
    return replyText(outcome);
  }

  lastPreview(): string {
    return this.chat.plainBodies().at(-1) ?? "";
  }

  /** Confirms the last preview as its requester would. */
  confirm(): Promise<CommandOutcome> {
    const id = /c-[0-9a-f]{6}/.exec(this.lastPreview())?.[0];
    if (id === undefined) throw new Error(`no confirmation id in: ${this.lastPreview()}`);
    return this.flow.confirm(id, REQUESTER);
  }
}

export function replyText(outcome: CommandOutcome): string {
  return renderOutcome(outcome, "!", FIXED_NOW)?.plain ?? "";
}
