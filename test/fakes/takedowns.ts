import type { TakedownRecord } from "../../src/model/takedowns.js";
import { TakedownRecords } from "../../src/store/takedowns.js";
import type { TakedownNotifier } from "../../src/tasks/takedowns/runner.js";

/** The takedown store in memory, with every save kept in order (a test can read what was stored before each step). */
export class MemoryTakedownStore extends TakedownRecords {
  readonly saves: TakedownRecord[] = [];
  private next = 0;
  /** Set to make the next save throw, as a database that cannot be written. */
  failNextSave = false;

  /** Ids in order, so a test can name them: t-000001, t-000002, ... */
  override newId(): string {
    this.next += 1;
    return `t-${this.next.toString(16).padStart(6, "0")}`;
  }

  save(record: TakedownRecord): Promise<void> {
    if (this.failNextSave) {
      this.failNextSave = false;
      return Promise.reject(new Error("disk I/O error"));
    }
    this.records.set(record.id, record);
    this.saves.push(record);
    return Promise.resolve();
  }
}

/** Records what the command asked the runner to start, and starts nothing. */
export class RecordingTakedowns {
  readonly started: TakedownRecord[] = [];
  start(record: TakedownRecord): Promise<TakedownRecord> {
    this.started.push(record);
    return Promise.resolve(record);
  }
}

/** Records the board posts, edits and final messages; `finalFails` makes that many final messages fail first. */
export class RecordingTakedownNotifier implements TakedownNotifier {
  readonly posts: TakedownRecord[] = [];
  readonly edits: TakedownRecord[] = [];
  readonly finals: TakedownRecord[] = [];
  finalFails = 0;

  posted(record: TakedownRecord): Promise<string | undefined> {
    this.posts.push(record);
    return Promise.resolve(`$board-${record.id}`);
  }

  moved(record: TakedownRecord): Promise<void> {
    this.edits.push(record);
    return Promise.resolve();
  }

  finished(record: TakedownRecord): Promise<boolean> {
    this.finals.push(record);
    if (this.finalFails > 0) {
      this.finalFails -= 1;
      return Promise.resolve(false);
    }
    return Promise.resolve(true);
  }
}
