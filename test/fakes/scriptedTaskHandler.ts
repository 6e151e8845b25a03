import type { AdminError } from "../../src/synapse/errors.js";
import type { Observation, TaskKindHandler } from "../../src/tasks/tracker.js";
import type { TaskRecord } from "../../src/tasks/types.js";
import type { Clock } from "../../src/util/clock.js";
import { err, ok, type Result } from "../../src/util/result.js";
import { adminError } from "./fakeAdmin.js";

export type PollAnswer = Result<Observation, AdminError>;
export type RecoverAnswer = Result<string | undefined, AdminError>;

export interface HandlerCall {
  readonly task: TaskRecord;
  readonly at: number;
}

export function observed(status: Observation["status"], extra: Omit<Observation, "status"> = {}): PollAnswer {
  return ok({ status, ...extra });
}

export function pollFails(kind: AdminError["kind"], status?: number, detail?: string): PollAnswer {
  return err(adminError(kind, status, detail));
}

/** Takes the next scripted answer; the last one repeats for as long as it is asked. */
function next<T>(script: T[], what: string): T {
  const answer = script.length > 1 ? script.shift() : script[0];
  if (answer === undefined) throw new Error(`no scripted ${what} answer`);
  return answer;
}

/**
 * A TaskKindHandler that answers polls and recoveries from scripts and records each call
 * with the clock's time, so tests can check what was asked and when.
 */
export class ScriptedTaskHandler implements TaskKindHandler {
  readonly polls: HandlerCall[] = [];
  readonly recoveries: HandlerCall[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly pollScript: PollAnswer[] = [],
    private readonly recoverScript: RecoverAnswer[] = [],
  ) {}

  poll(task: TaskRecord): Promise<PollAnswer> {
    this.polls.push({ task: structuredClone(task), at: this.clock.now() });
    return Promise.resolve(next(this.pollScript, "poll"));
  }

  recover(task: TaskRecord): Promise<RecoverAnswer> {
    this.recoveries.push({ task: structuredClone(task), at: this.clock.now() });
    return Promise.resolve(next(this.recoverScript, "recover"));
  }
}
