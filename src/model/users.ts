import type { UserId } from "../matrix/ids.js";
import type { MediaSize } from "./media.js";
import type { ReportState } from "./reports.js";

/**
 * What !user reports about a user: plain facts only, each part read on its own so one failed
 * read costs one line, not the whole look. render/users/user.ts turns them into chat text.
 * Times are epoch milliseconds; a field left out is one the homeserver did not report.
 */

/** One part of the look: what was read, why it could not be, or which Synapse it needs. */
export type Part<T> =
  | { readonly state: "read"; readonly value: T }
  | { readonly state: "failed"; readonly why: string }
  /** The homeserver has no such endpoint yet; `text` is "… needs Synapse X or later (…)". */
  | { readonly state: "needs"; readonly text: string };

/** The account's flags and profile (GET /_synapse/admin/v2/users/<user>). */
export interface AccountFacts {
  readonly displayName?: string;
  readonly admin?: boolean;
  readonly deactivated?: boolean;
  readonly erased?: boolean;
  /** Absent before Synapse 1.121, which did not report it. */
  readonly suspended?: boolean;
  /** Absent before Synapse 1.93. */
  readonly locked?: boolean;
  readonly shadowBanned?: boolean;
  readonly createdAt?: number;
  readonly lastSeenAt?: number;
  /** "bot", "support", … ; absent for an ordinary account. */
  readonly userType?: string;
  readonly guest?: boolean;
  readonly appserviceId?: string;
}

/** One device (session) of a local user. Its addresses are never part of it: see UserAddresses. */
export interface DeviceFacts {
  readonly deviceId: string;
  /** Chosen by the user's client (or the user): untrusted text. */
  readonly displayName?: string;
  /** Absent: never seen. */
  readonly lastSeenAt?: number;
  readonly dehydrated?: boolean;
}

/** A room as the look names it, with its member counts when its details were read. */
export interface RoomEntry {
  readonly roomId: string;
  readonly name?: string;
  readonly canonicalAlias?: string;
  readonly joinedMembers?: number;
  readonly joinedLocalMembers?: number;
  /** Set when the room's details could not be read: why. */
  readonly unread?: string;
}

export interface JoinedRooms {
  /** Every room the user is joined to now. */
  readonly total: number;
  /** The first ones, with their member counts. */
  readonly shown: readonly RoomEntry[];
  /** Of the joined rooms whose details were read (`checked`), those with local members joined. */
  readonly withLocalMembers: number;
  readonly checked: number;
}

/**
 * The user's membership in every room this server is in (its current state: a room they left
 * reads "leave"). Membership -> room IDs, sorted.
 */
export interface Memberships {
  readonly rooms: Readonly<Record<string, readonly string[]>>;
  readonly total: number;
}

/** Rooms whose creator is the user, among the rooms Warden looked at (never the whole server). */
export interface CreatedRooms {
  readonly rooms: readonly RoomEntry[];
  /** Where the candidates came from: their memberships, or their joined rooms when memberships could not be read. */
  readonly among: "memberships" | "joined rooms";
  /** How many candidate rooms there were, and how many of them Warden read the details of. */
  readonly candidates: number;
  readonly checked: number;
  /** Rooms read whose details the homeserver could not give. */
  readonly unreadable: number;
}

/** Invites sent and rooms joined since a time (Synapse ≥ 1.122). */
export interface RecentActivity {
  readonly since: number;
  readonly invitesSent: Part<number>;
  /** Counting rooms joined and left again. */
  readonly roomsJoined: Part<number>;
}

export interface UserMedia {
  readonly files: number;
  readonly size: MediaSize;
}

/** One report in a look: which, when, where, and by whom. */
export interface ReportMention {
  readonly id: number;
  readonly receivedTs: number;
  readonly roomId?: string;
  readonly reporter?: string;
  readonly reason?: string;
  /** Warden's own reports only. */
  readonly state?: ReportState;
}

/** The reports Warden took from the homeserver (its numbers, its states) that name the user. */
export interface WardenReports {
  /** Reports about an event the user sent. */
  readonly aboutThem: number;
  readonly openAboutThem: number;
  /** Reports the user made. */
  readonly byThem: number;
  readonly newest: readonly ReportMention[];
  /** Set when Warden counted only its newest this many reports naming the user. */
  readonly boundedAt?: number;
}

export interface HomeserverReports {
  readonly total: number;
  readonly newest: readonly ReportMention[];
}

export interface ReportsNamingUser {
  readonly warden: Part<WardenReports>;
  /** The homeserver's event reports about events the user sent. */
  readonly events: Part<HomeserverReports>;
  /** The homeserver's reports about the user (Synapse ≥ 1.152). */
  readonly user: Part<HomeserverReports>;
}

export interface UserRooms {
  readonly joined: Part<JoinedRooms>;
  readonly memberships: Part<Memberships>;
  readonly created: Part<CreatedRooms>;
}

/** What --ips did; the addresses themselves go in a notice of their own (UserAddresses), never in the look. */
export type AddressNotice =
  | { readonly kind: "sent"; readonly connections: number }
  | { readonly kind: "not-sent"; readonly why: string };

/** A command that comes next, ready to copy. */
export interface NextCommand {
  readonly command: string;
  readonly what: string;
}

export interface LocalUserLook {
  readonly kind: "local";
  readonly userId: UserId;
  readonly account: Part<AccountFacts>;
  /** Why Warden never restricts or takes the user down, if it never does. */
  readonly protectedReason?: string;
  readonly devices: Part<readonly DeviceFacts[]>;
  readonly rooms: UserRooms;
  readonly activity: RecentActivity;
  readonly media: Part<UserMedia>;
  readonly reports: ReportsNamingUser;
  readonly addresses?: AddressNotice;
  readonly next: readonly NextCommand[];
}

/** A user of another server: what this server holds of them. */
export interface RemoteUserLook {
  readonly kind: "remote";
  readonly userId: UserId;
  readonly server: string;
  readonly protectedReason?: string;
  readonly rooms: UserRooms;
  readonly reports: ReportsNamingUser;
  readonly next: readonly NextCommand[];
}

/** One connection of a session, as whois reports it: for the requester's eyes only (--ips). */
export interface SessionAddress {
  readonly deviceId: string;
  readonly ip?: string;
  readonly lastSeenAt?: number;
  readonly userAgent?: string;
}

export interface UserAddresses {
  readonly userId: UserId;
  readonly requester: UserId;
  readonly connections: readonly SessionAddress[];
}

export type UserOutcome =
  | { readonly kind: "user-look"; readonly look: LocalUserLook | RemoteUserLook }
  /** A user ID of this server with no account behind it. */
  | { readonly kind: "user-unknown"; readonly userId: UserId };
