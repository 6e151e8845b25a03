/**
 * What an ordinary user of the homeserver feels while a purge method runs: a client reading a
 * busy room that nobody purges. It asks for the room's latest page (`/messages`) and for what is
 * new (`/sync` from its last `next_batch`, timeout 0, so the time is the server's work and not a
 * long-poll), each every 0.25 s, while another member keeps talking in the room.
 */
import { performance } from "node:perf_hooks";
import type { MatrixClient } from "../scripts/harness/client.js";
import { latencySummary, type LatencySummary } from "./measure.js";

export const ENDPOINTS = ["messages", "sync"] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export interface UserSample {
  readonly endpoint: Endpoint;
  /** When the request was sent (epoch ms): the sample belongs to the window this falls in. */
  readonly at: number;
  readonly ms: number;
  /** An error answer or none in time; its time still counts, the user waited that long. */
  readonly failed: boolean;
}

export type EndpointLatency = LatencySummary & { readonly failed: number };
export type UserLatency = Readonly<Record<Endpoint, EndpointLatency>>;

/** The samples sent in [from, to] (epoch ms), summarised per endpoint. */
export function userLatency(samples: readonly UserSample[], from: number, to: number): UserLatency {
  const summary = (endpoint: Endpoint): EndpointLatency => {
    const inWindow = samples.filter((sample) => sample.endpoint === endpoint && sample.at >= from && sample.at <= to);
    return { ...latencySummary(inWindow.map((sample) => sample.ms)), failed: inWindow.filter((sample) => sample.failed).length };
  };
  return { messages: summary("messages"), sync: summary("sync") };
}

/** Every 0.25 s: a phone or browser that has the room open polls about as often, not more. */
const SAMPLE_MS = 250;
/** One message a second from the other member: /sync has something to return, /messages a moving room. */
const CHATTER_MS = 1_000;
const PAGE = 20;
/** What a client asks /sync for: its rooms' latest events, members loaded lazily, no presence. */
const SYNC_FILTER = { room: { timeline: { limit: PAGE }, state: { lazy_load_members: true } }, presence: { not_types: ["*"] } };

export interface UserSampler {
  readonly samples: readonly UserSample[];
  /** Ends the loops after their requests in flight. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts sampling `reader`'s view of `roomId` while `writer` talks in it; both must be joined.
 * Like a client, one request of a kind is out at a time: the next goes on the first tick after
 * the answer, so a slow answer means fewer samples, each as slow as the user found it.
 */
export async function startUserSampler(reader: MatrixClient, writer: MatrixClient, roomId: string): Promise<UserSampler> {
  const samples: UserSample[] = [];
  let stopped = false;
  // The initial sync is a client's start-up, not what it does while open: it is not sampled.
  let since = (await reader.sync({ filter: SYNC_FILTER })).next_batch;

  const onTicks = async (everyMs: number, work: () => Promise<void>): Promise<void> => {
    let tick = Date.now();
    while (!stopped) {
      await work();
      tick += everyMs * (Math.floor((Date.now() - tick) / everyMs) + 1);
      await sleep(Math.max(0, tick - Date.now()));
    }
  };
  const sampled = (endpoint: Endpoint, request: () => Promise<void>) => async (): Promise<void> => {
    const at = Date.now();
    const started = performance.now();
    let failed = false;
    try {
      await request();
    } catch {
      failed = true;
    }
    samples.push({ endpoint, at, ms: performance.now() - started, failed });
  };

  let said = 0;
  const loops = Promise.all([
    onTicks(
      SAMPLE_MS,
      sampled("messages", async () => {
        await reader.getMessages(roomId, { dir: "b", limit: PAGE });
      }),
    ),
    onTicks(
      SAMPLE_MS,
      sampled("sync", async () => {
        since = (await reader.sync({ since, timeoutMs: 0, filter: SYNC_FILTER })).next_batch;
      }),
    ),
    onTicks(CHATTER_MS, async () => {
      // A message that did not go through is the writer's problem, not the reader's latency.
      await writer.sendText(roomId, `chatter ${String(++said)}`).catch(() => undefined);
    }),
  ]);
  return {
    samples,
    stop: async () => {
      stopped = true;
      await loops;
    },
  };
}
