import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { DatabaseEngine } from "./like.js";
import { SIMULATED_ORDERS, SimulatedRooms, type SimulatedOrder } from "./rooms.js";
import { TaskScheduler, type JobPlan, type SimTask, type TaskStatus } from "./scheduler.js";

/**
 * A homeserver's admin API for benchmarks: the endpoints Warden's waves, tracker, selection and
 * retention call, answered from generated rooms and Synapse's task scheduler semantics. Nothing
 * else of Synapse is there (no client API, no auth beyond "a bearer token was sent").
 */
export interface SimulatorOptions {
  readonly rooms: number;
  readonly serverName?: string;
  readonly eventsPerRoom?: number;
  readonly eventSpacingMs?: number;
  /** How long each purge or delete runs once started. */
  readonly jobMs: number;
  /** Added before every answer. */
  readonly latencyMs?: number;
  /** Share of requests answered 500 before anything is done. */
  readonly requestErrorRate?: number;
  /** Share of jobs that end "failed". */
  readonly jobFailureRate?: number;
  readonly engine?: DatabaseEngine;
  /** Names for the first rooms, in place of generated ones. */
  readonly names?: readonly string[];
  /** Seeds the error draws, so a run can be repeated. */
  readonly seed?: number;
  readonly relaunchDelayMs?: number;
  readonly port?: number;
}

export interface RunningSimulator {
  readonly url: string;
  readonly rooms: SimulatedRooms;
  readonly scheduler: TaskScheduler;
  /** Requests answered so far, by family (see familyOf). */
  requests(): ReadonlyMap<string, number>;
  resetRequests(): void;
  stop(): Promise<void>;
}

const PURGE_HISTORY = "purge_history";
const SHUTDOWN_AND_PURGE = "shutdown_and_purge_room";
const PURGE_ROOM = "purge_room";
const STATUSES: readonly TaskStatus[] = ["scheduled", "active", "complete", "failed", "cancelled"];

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
  ) {
    super(message);
  }
}

type Json = Readonly<Record<string, unknown>>;

/** A small seeded generator (mulberry32): error draws repeat with the seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Names a request by what it asks, for counting: status reads apart from the rest. */
export function familyOf(method: string, path: string): string {
  if (path.includes("/purge_history_status/")) return "purge_history_status";
  if (path.includes("/delete_status")) return "delete_status";
  if (path.endsWith("/scheduled_tasks")) return "scheduled_tasks";
  if (path.includes("/purge_history/")) return "purge_history";
  if (path.endsWith("/timestamp_to_event")) return "timestamp_to_event";
  if (path.endsWith("/messages")) return "messages";
  if (path.endsWith("/members")) return "members";
  if (path.endsWith("/hierarchy")) return "hierarchy";
  if (path.endsWith("/block")) return "block";
  if (/\/v1\/rooms$/.test(path)) return "rooms list";
  if (/\/v2\/rooms\/[^/]+$/.test(path) && method === "DELETE") return "delete";
  if (/\/v1\/rooms\/[^/]+$/.test(path)) return "room details";
  if (path.endsWith("/server_version")) return "server_version";
  if (path.endsWith("_reports")) return "reports";
  return "other";
}

/** The families that only read a job's status; the rest are Warden's per-room work. */
export const STATUS_FAMILIES: ReadonlySet<string> = new Set(["purge_history_status", "delete_status", "scheduled_tasks"]);

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const serverName = options.serverName ?? "sim.example";
  const rooms = new SimulatedRooms({
    count: options.rooms,
    serverName,
    eventsPerRoom: options.eventsPerRoom ?? 20,
    eventSpacingMs: options.eventSpacingMs ?? 3_600_000,
    historyEnd: Date.now(),
    spamEvery: 10,
    engine: options.engine ?? "sqlite",
    ...(options.names === undefined ? {} : { names: options.names }),
  });
  const scheduler = new TaskScheduler({ ...(options.relaunchDelayMs === undefined ? {} : { relaunchDelayMs: options.relaunchDelayMs }) });
  const random = seededRandom(options.seed ?? 1);
  const counts = new Map<string, number>();
  const api = new AdminApi(rooms, scheduler, options, random);

  const server = createServer((request, response) => {
    void answer(request, response);
  });
  const answer = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://simulator");
    const method = request.method ?? "GET";
    const family = familyOf(method, url.pathname);
    counts.set(family, (counts.get(family) ?? 0) + 1);
    let status = 200;
    let body: Json;
    try {
      const text = await readBody(request);
      if ((options.latencyMs ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
      if (!/^Bearer \S+$/.test(request.headers.authorization ?? "")) throw new HttpError(401, "M_MISSING_TOKEN", "Missing access token.");
      if (random() < (options.requestErrorRate ?? 0)) throw new HttpError(500, "M_UNKNOWN", "Internal server error (simulated)");
      body = api.handle(method, url, parseBody(text));
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        body = { errcode: error.errcode, error: error.message };
      } else {
        status = 500;
        body = { errcode: "M_UNKNOWN", error: error instanceof Error ? error.message : String(error) };
      }
    }
    const text = JSON.stringify(body);
    response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    response.end(text);
  };

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    rooms,
    scheduler,
    requests: () => new Map(counts),
    resetRequests: () => {
      counts.clear();
    },
    stop: async () => {
      scheduler.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => { resolve(Buffer.concat(chunks).toString("utf8")); });
    request.on("error", reject);
  });
}

function parseBody(text: string): Json {
  if (text === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, "M_NOT_JSON", "Content not JSON.");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new HttpError(400, "M_BAD_JSON", "Content must be a JSON object.");
  return parsed as Json;
}

/** parse_integer: absent is `fallback`; anything but digits is a 400. */
function integer(query: URLSearchParams, name: string, fallback?: number): number | undefined {
  const text = query.get(name);
  if (text === null) return fallback;
  if (!/^-?\d+$/.test(text)) throw new HttpError(400, "M_INVALID_PARAM", `Query parameter ${JSON.stringify(name)} must be an integer`);
  return Number(text);
}

function direction(query: URLSearchParams, fallback: "f" | "b"): "f" | "b" {
  const text = query.get("dir") ?? fallback;
  if (text !== "f" && text !== "b") throw new HttpError(400, "M_INVALID_PARAM", `Query parameter "dir" must be one of ["b", "f"]`);
  return text;
}

class AdminApi {
  constructor(
    private readonly rooms: SimulatedRooms,
    private readonly scheduler: TaskScheduler,
    private readonly options: SimulatorOptions,
    private readonly random: () => number,
  ) {}

  handle(method: string, url: URL, body: Json): Json {
    const match = /^\/_synapse\/admin\/(v1|v2)\/(.*)$/.exec(url.pathname);
    if (match === null) throw unrecognized();
    const version = match[1] ?? "";
    const parts = (match[2] ?? "").split("/").map((part) => decodeURIComponent(part));
    const query = url.searchParams;
    const [first, second, third] = parts;
    if (method === "GET" && version === "v2" && first === "rooms" && second === "delete_status" && parts.length === 3) return this.deleteStatus(third ?? "");
    const route = `${method} ${version}/${first ?? ""}${parts.length > 1 ? "/*" : ""}${third === undefined ? "" : `/${third}`}`;
    if (parts.length > 3) throw unrecognized();
    switch (route) {
      case "GET v1/server_version":
        return { server_version: "1.163.2 (simulated)" };
      case "GET v1/rooms":
        return this.list(query);
      case "GET v1/rooms/*":
        return this.details(second ?? "");
      case "GET v1/rooms/*/members":
        return this.members(second ?? "");
      case "GET v1/rooms/*/hierarchy":
        return this.hierarchy(second ?? "", query);
      case "GET v1/rooms/*/timestamp_to_event":
        return this.timestampToEvent(second ?? "", query);
      case "GET v1/rooms/*/messages":
        return this.messages(second ?? "", query);
      case "GET v1/rooms/*/block":
        return this.blockStatus(second ?? "");
      case "PUT v1/rooms/*/block":
        return this.setBlock(second ?? "", body);
      case "POST v1/purge_history/*":
        return this.purge(second ?? "", body);
      case "GET v1/purge_history_status/*":
        return this.purgeStatus(second ?? "");
      case "DELETE v2/rooms/*":
        return this.delete(second ?? "", body);
      case "GET v2/rooms/*/delete_status":
        return this.deleteStatusesOf(second ?? "");
      case "GET v1/scheduled_tasks":
        return this.scheduledTasks(query);
      case "GET v1/event_reports":
        return { event_reports: [], total: 0 };
      case "GET v1/user_reports":
        return { user_reports: [], total: 0 };
      default:
        throw unrecognized();
    }
  }

  private list(query: URLSearchParams): Json {
    const from = integer(query, "from", 0) ?? 0;
    const limit = integer(query, "limit", 100) ?? 100;
    const order = query.get("order_by") ?? "name";
    if (!(SIMULATED_ORDERS as readonly string[]).includes(order)) throw new HttpError(400, "M_INVALID_PARAM", `order_by ${order} is not simulated`);
    const search = query.get("search_term") ?? undefined;
    if (search === "") throw new HttpError(400, "M_INVALID_PARAM", "search_term cannot be an empty string");
    const backwards = direction(query, "f") === "b";
    const page = this.rooms.page({ from, limit, order: order as SimulatedOrder, backwards, ...(search === undefined ? {} : { search }) });
    return {
      offset: from,
      rooms: page.rooms,
      total_rooms: page.total,
      ...(from + limit < page.total ? { next_batch: from + limit } : {}),
      ...(from > 0 ? { prev_batch: from > limit ? from - limit : 0 } : {}),
    };
  }

  /** The index of a room the server knows; 404 otherwise. */
  private known(roomId: string): number {
    const index = this.rooms.indexOf(roomId);
    if (index === undefined || !this.rooms.knows(index)) throw new HttpError(404, "M_NOT_FOUND", "Room not found");
    return index;
  }

  private details(roomId: string): Json {
    const index = this.known(roomId);
    const row = this.rooms.row(index);
    return { ...row, topic: null, avatar: null, forgotten: false };
  }

  private members(roomId: string): Json {
    const members = this.rooms.members(this.known(roomId));
    return { members, total: members.length };
  }

  private hierarchy(roomId: string, query: URLSearchParams): Json {
    const index = this.known(roomId);
    const maxDepth = integer(query, "max_depth");
    const limit = Math.min(integer(query, "limit", 50) ?? 50, 50);
    const from = Number(query.get("from") ?? "0");
    const children = index === 0 && maxDepth !== 0 ? this.rooms.spaceChildren().filter((child) => this.rooms.knows(child)) : [];
    const tree = [index, ...children];
    const entry = (room: number): Json => {
      const row = this.rooms.row(room);
      return {
        room_id: row.room_id,
        name: row.name,
        canonical_alias: row.canonical_alias,
        num_joined_members: row.joined_members,
        room_type: row.room_type,
        join_rule: row.join_rules,
        world_readable: false,
        guest_can_join: false,
        children_state:
          room === index
            ? children.map((child) => ({ type: "m.space.child", state_key: this.rooms.roomId(child), content: { via: [this.rooms.options.serverName] } }))
            : [],
      };
    };
    const page = tree.slice(from, from + limit).map(entry);
    return { rooms: page, ...(from + limit < tree.length ? { next_batch: String(from + limit) } : {}) };
  }

  private timestampToEvent(roomId: string, query: URLSearchParams): Json {
    const index = this.known(roomId);
    const ts = integer(query, "ts");
    if (ts === undefined) throw new HttpError(400, "M_MISSING_PARAM", "Missing integer query parameter 'ts'");
    const dir = direction(query, "f");
    const event = this.rooms.closestEvent(index, ts, dir);
    if (event === undefined) throw new HttpError(404, "M_NOT_FOUND", `Unable to find event from ${String(ts)} in direction ${dir === "f" ? "Direction.FORWARDS" : "Direction.BACKWARDS"}`);
    return { event_id: event.event_id, origin_server_ts: event.origin_server_ts };
  }

  /** One page of the room's events still there; tokens are event positions. */
  private messages(roomId: string, query: URLSearchParams): Json {
    const index = this.known(roomId);
    const dir = direction(query, "b");
    const limit = integer(query, "limit", 10) ?? 10;
    const first = this.rooms.firstKeptEvent(index);
    const last = this.rooms.options.eventsPerRoom - 1;
    const fromText = query.get("from");
    const start = fromText === null ? (dir === "f" ? first : last) : Number(fromText);
    const chunk = [];
    let position = start;
    for (; chunk.length < limit && position >= first && position <= last; position += dir === "f" ? 1 : -1) chunk.push(this.rooms.event(index, position));
    const more = position >= first && position <= last;
    return { chunk, start: String(start), ...(more ? { end: String(position) } : {}) };
  }

  private blockStatus(roomId: string): Json {
    const by = this.rooms.blockedBy(roomId);
    return by === undefined ? { block: false } : { block: true, user_id: by };
  }

  private setBlock(roomId: string, body: Json): Json {
    if (typeof body["block"] !== "boolean") throw new HttpError(400, "M_BAD_JSON", "Param 'block' must be a boolean.");
    this.rooms.block(roomId, body["block"] ? this.rooms.localUser(0) : undefined);
    return { block: body["block"] };
  }

  private plan(complete: () => Readonly<Record<string, unknown>> | null): JobPlan {
    const fails = this.random() < (this.options.jobFailureRate ?? 0);
    return { durationMs: this.options.jobMs, ...(fails ? { failure: "simulated failure" } : { complete }) };
  }

  private purge(roomId: string, body: Json): Json {
    const index = this.rooms.indexOf(roomId);
    let boundary: number | undefined;
    const eventId = body["purge_up_to_event_id"];
    if (typeof eventId === "string") {
      const position = this.rooms.eventPosition(eventId);
      if (position === undefined) throw new HttpError(404, "M_NOT_FOUND", "Could not find event " + eventId);
      if (position.index !== index) throw new HttpError(400, "M_UNKNOWN", "Event is for wrong room.");
      boundary = position.k;
    } else if ("purge_up_to_ts" in body) {
      const ts = body["purge_up_to_ts"];
      if (typeof ts !== "number" || !Number.isInteger(ts)) throw new HttpError(400, "M_BAD_JSON", "purge_up_to_ts must be an int");
      boundary = index === undefined || !this.rooms.knows(index) ? undefined : this.rooms.lastEventBefore(index, ts);
      if (boundary === undefined) throw new HttpError(404, "M_NOT_FOUND", "there is no event to be purged");
    } else {
      throw new HttpError(400, "M_BAD_JSON", "must specify purge_up_to_event_id or purge_up_to_ts");
    }
    const target = index ?? -1;
    const upTo = boundary;
    const task = this.scheduler.schedule(
      PURGE_HISTORY,
      roomId,
      this.plan(() => {
        if (this.rooms.knows(target)) this.rooms.purgeBefore(target, upTo);
        return null;
      }),
    );
    return { purge_id: task.id };
  }

  private purgeStatus(purgeId: string): Json {
    const task = this.scheduler.get(purgeId);
    if (task?.action !== PURGE_HISTORY) throw new HttpError(404, "M_NOT_FOUND", `purge id '${purgeId}' not found`);
    return {
      status: task.status === "complete" || task.status === "failed" ? task.status : "active",
      ...(task.error === null ? {} : { error: task.error }),
    };
  }

  private delete(roomId: string, body: Json): Json {
    if (!/^![^:]+:.+$/.test(roomId)) throw new HttpError(400, "M_UNKNOWN", `${roomId} is not a legal room ID`);
    for (const key of ["block", "purge", "force_purge"]) {
      if (key in body && typeof body[key] !== "boolean") throw new HttpError(400, "M_BAD_JSON", `Param '${key}' must be a boolean, if given`);
    }
    if (this.deleteTasksOf(roomId, true).length > 0) throw new HttpError(400, "M_UNKNOWN", `Purge already in progress for ${roomId}`);
    const index = this.rooms.indexOf(roomId);
    const block = body["block"] === true;
    const purge = body["purge"] !== false;
    const task = this.scheduler.schedule(
      SHUTDOWN_AND_PURGE,
      roomId,
      this.plan(() => {
        const known = index !== undefined && this.rooms.knows(index);
        const kicked = known ? this.rooms.members(index).filter((member) => member.endsWith(`:${this.rooms.options.serverName}`)) : [];
        if (block) this.rooms.block(roomId, this.rooms.localUser(0));
        if (known && purge) this.rooms.remove(index);
        return { kicked_users: kicked, failed_to_kick_users: [], local_aliases: [], new_room_id: null };
      }),
    );
    return { delete_id: task.id };
  }

  /** Synapse's get_delete_tasks_by_room: active (and, unless onlyActive, ended) deletes; never scheduled ones. */
  private deleteTasksOf(roomId: string, onlyActive: boolean): SimTask[] {
    const statuses: TaskStatus[] = onlyActive ? ["active"] : ["active", "complete", "failed"];
    return this.scheduler.list({ actions: [PURGE_ROOM, SHUTDOWN_AND_PURGE], resourceId: roomId, statuses });
  }

  private deleteStatus(deleteId: string): Json {
    const task = this.scheduler.get(deleteId);
    if (task === undefined || (task.action !== PURGE_ROOM && task.action !== SHUTDOWN_AND_PURGE)) throw new HttpError(404, "M_NOT_FOUND", `delete id '${deleteId}' not found`);
    return deleteResponse(task);
  }

  private deleteStatusesOf(roomId: string): Json {
    if (!/^![^:]+:.+$/.test(roomId)) throw new HttpError(400, "M_UNKNOWN", `${roomId} is not a legal room ID`);
    const tasks = this.deleteTasksOf(roomId, false);
    if (tasks.length === 0) throw new HttpError(404, "M_NOT_FOUND", `No delete task for room_id '${roomId}' found`);
    return { results: tasks.map(deleteResponse) };
  }

  private scheduledTasks(query: URLSearchParams): Json {
    const actions = query.getAll("action_name");
    const resourceId = query.get("resource_id") ?? undefined;
    // Synapse 1.163 reads every value of a repeated `status`, else of `job_status`.
    const given = query.getAll("status").length > 0 ? query.getAll("status") : query.getAll("job_status");
    for (const status of given) {
      if (!(STATUSES as readonly string[]).includes(status)) throw new HttpError(400, "M_INVALID_PARAM", `Query parameter "status" must be one of ${JSON.stringify(STATUSES)}`);
    }
    const maxTimestamp = integer(query, "max_timestamp");
    const tasks = this.scheduler.list({
      ...(actions.length > 0 ? { actions } : {}),
      ...(resourceId === undefined || resourceId === "" ? {} : { resourceId }),
      ...(given.length > 0 ? { statuses: given as TaskStatus[] } : {}),
      ...(maxTimestamp === undefined ? {} : { maxTimestamp }),
    });
    return {
      scheduled_tasks: tasks.map((task) => ({
        id: task.id,
        action: task.action,
        status: task.status,
        timestamp_ms: task.timestamp,
        resource_id: task.resourceId ?? null,
        result: task.result,
        error: task.error,
      })),
    };
  }
}

function deleteResponse(task: SimTask): Json {
  return { delete_id: task.id, room_id: task.resourceId ?? null, status: task.status, shutdown_room: task.result };
}

function unrecognized(): HttpError {
  return new HttpError(404, "M_UNRECOGNIZED", "Unrecognized request");
}
