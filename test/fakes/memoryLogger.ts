import { pino, type Logger } from "pino";

export type LogEntry = Readonly<Record<string, unknown>>;

/** A real pino logger at trace level whose lines are kept in memory for assertions. */
export class MemoryLogger {
  readonly lines: string[] = [];
  readonly log: Logger;

  constructor() {
    this.log = pino(
      { level: "trace", base: null, timestamp: false },
      {
        write: (line: string) => {
          this.lines.push(line);
        },
      },
    );
  }

  entries(): LogEntry[] {
    return this.lines.map((line) => JSON.parse(line) as LogEntry);
  }

  /** Entries whose `msg` is exactly the given text. */
  withMessage(msg: string): LogEntry[] {
    return this.entries().filter((entry) => entry["msg"] === msg);
  }
}
