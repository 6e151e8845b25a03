import { answerTransactionId, type ChatSender } from "../../matrix/chat.js";
import { serverNameOf, type UserId } from "../../matrix/ids.js";
import type { CommandOutcome } from "../../model/outcomes.js";
import type { AddressNotice, SessionAddress } from "../../model/users.js";
import { renderUserAddresses } from "../../render/users/user.js";
import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { err, ok } from "../../util/result.js";
import { parseUserArgument } from "../parsing/arguments.js";
import { booleanFlag } from "../parsing/words.js";
import { defineCommand, type CommandContext } from "../spec.js";
import { lookAtUser, RECENT_WINDOW_MS, REPORTS_SHOWN, ROOM_DETAIL_READS, ROOMS_SHOWN, type UserLookDependencies } from "./userLook.js";

/** Whether the management room is private; src/app/managementRoomGuard.ts answers it. */
export interface RoomExposure {
  /** Why the room is not private (public, world-readable, or its settings unreadable); undefined when it is. */
  refusal(): string | undefined;
}

export interface UserDependencies extends UserLookDependencies {
  readonly admin: UserLookDependencies["admin"] & Pick<SynapseAdminClient, "whois">;
  /** Addresses are posted only while the management room is private. */
  readonly exposure: RoomExposure;
  /** Where --ips posts its notice: the management room, beside the look. */
  readonly chat: Pick<ChatSender, "send">;
}

interface UserArguments {
  readonly user: UserId;
  readonly ips: boolean;
}

export function userCommand(dependencies: UserDependencies) {
  return defineCommand<UserArguments>({
    name: "user",
    summary: "What the homeserver knows of a user, local or remote, in one message: account, devices, rooms, recent activity, media, reports, and the commands that come next.",
    details: [
      "Local user: display name; whether the account is admin, deactivated, erased, suspended, locked or shadow-banned; when it was created and last seen; its devices; the rooms it is joined to (the first " +
        `${ROOMS_SHOWN} with their member counts), its membership in every room this server is in, the rooms it created, the invites it sent and rooms it joined in the last ${RECENT_WINDOW_MS / 3_600_000} h, its uploads (count and size), and the reports naming it.`,
      "Remote user: what this server holds of them: the rooms they share with local users, their memberships here, the rooms they created, and the reports naming them.",
      `Rooms they created are found among the rooms of their memberships (at most ${ROOM_DETAIL_READS} rooms' details are read, and the reply says when it stopped there); messages are not counted, as that would read whole room histories.`,
      `Reports: Warden's own (about their events, and made by them), the homeserver's event reports about their events, and its reports about the user (the newest ${REPORTS_SHOWN} of each).`,
      "Membership history needs Synapse 1.145, the 24-hour counts 1.122 and reports about users 1.152: on an older homeserver that line says so and the rest still shows. A part that cannot be read says why on its own line.",
      "Addresses (IPs) never appear in the look. --ips posts them in a separate notice, only while the management room is private, and refuses otherwise.",
    ],
    positionals: [{ name: "user", description: "the user to look at, as a full user ID such as @spammer:example.org" }],
    flags: [{ name: "ips", kind: "boolean", description: "also post the addresses of the user's sessions, in a separate notice (local users; only while this room is private)" }],
    examples: ["!user @spammer:example.org", "!user @raider:other.example", "!user @spammer:example.org --ips"],
    parse(words) {
      const user = parseUserArgument("<user>", words.positionals[0] ?? "");
      if (!user.ok) return user;
      const ips = booleanFlag(words, "ips");
      if (ips && serverNameOf(user.value) !== dependencies.serverName) {
        return err({ argument: "--ips", expected: `a user of this homeserver (${dependencies.serverName}) before it: it keeps session addresses only for its own users` });
      }
      return ok({ user: user.value, ips });
    },
    async execute(args, context): Promise<CommandOutcome> {
      if (args.ips) {
        const exposed = dependencies.exposure.refusal();
        if (exposed !== undefined) {
          return {
            kind: "refused",
            reason: `--ips posts addresses in the management room, which is not private now: ${exposed}.`,
            hint: `Nothing was looked up. ${context.prefix}user ${args.user} without --ips shows the rest.`,
          };
        }
      }
      const outcome = await lookAtUser(args.user, dependencies, context.prefix);
      if (!args.ips || outcome.kind !== "user-look" || outcome.look.kind !== "local") return outcome;
      return { ...outcome, look: { ...outcome.look, addresses: await postAddresses(args.user, context, dependencies) } };
    },
  });
}

/**
 * --ips: the addresses of the user's sessions, in a notice of their own that replies to the
 * command, never in the look (which the audit trail keeps and anyone in the room may quote).
 * The room's exposure is checked again right before sending: it may have changed during the look.
 */
async function postAddresses(userId: UserId, context: CommandContext, dependencies: UserDependencies): Promise<AddressNotice> {
  const whois = await dependencies.admin.whois(userId);
  if (!whois.ok) return { kind: "not-sent", why: `the sessions could not be read: ${whois.error.userMessage}` };
  const connections: SessionAddress[] = Object.entries(whois.value.devices)
    .flatMap(([deviceId, device]) =>
      device.sessions.flatMap((session) =>
        session.connections.map(
          (connection): SessionAddress => ({
            deviceId,
            ...(connection.ip === null || connection.ip === undefined ? {} : { ip: connection.ip }),
            ...(connection.last_seen === null || connection.last_seen === undefined ? {} : { lastSeenAt: connection.last_seen }),
            ...(connection.user_agent === null || connection.user_agent === undefined ? {} : { userAgent: connection.user_agent }),
          }),
        ),
      ),
    )
    .sort((a, b) => (b.lastSeenAt ?? -1) - (a.lastSeenAt ?? -1));
  if (connections.length === 0) return { kind: "not-sent", why: "the homeserver holds no session addresses for them" };
  const exposed = dependencies.exposure.refusal();
  if (exposed !== undefined) return { kind: "not-sent", why: `the management room stopped being private during the look: ${exposed}` };
  const sent = await dependencies.chat.send(context.managementRoomId, renderUserAddresses({ userId, requester: context.requester, connections }, dependencies.clock.now()), {
    replyTo: context.commandEventId,
    // A second run of the same command (after a restart) sends nothing new: the homeserver drops the repeat.
    transactionId: answerTransactionId(`${context.commandEventId} addresses`),
  });
  if (!sent.ok) {
    dependencies.log.warn({ userId, requester: context.requester, error: sent.error }, "could not post a user's session addresses");
    return { kind: "not-sent", why: `the notice could not be sent: ${sent.error.detail}` };
  }
  // The log names who asked and how many, never the addresses.
  dependencies.log.info({ userId, requester: context.requester, connections: connections.length }, "posted a user's session addresses");
  return { kind: "sent", connections: connections.length };
}
