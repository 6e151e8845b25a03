import { spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, scrubSecrets } from "../../src/log.js";

const SECRET = "syt_bG9nX3Rlc3Q_SuperSecretValue_1a2b3c";

/** A stream that keeps every line pino writes. */
class MemoryStream extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.lines.push(chunk.toString());
    callback();
  }

  text(): string {
    return this.lines.join("");
  }
}

function capture(secrets: readonly string[] = [SECRET]): { stream: MemoryStream; log: ReturnType<typeof createLogger> } {
  const stream = new MemoryStream();
  return { stream, log: createLogger("trace", secrets, stream) };
}

describe("createLogger", () => {
  it("scrubs the secret from the message", () => {
    const { stream, log } = capture();

    log.info(`token is ${SECRET}, again ${SECRET}`);

    expect(stream.lines).toHaveLength(1);
    expect(stream.text()).not.toContain(SECRET);
    expect(JSON.parse(stream.lines[0] ?? "{}")).toMatchObject({ msg: "token is [redacted], again [redacted]" });
  });

  it("scrubs the secret from nested objects under any key", () => {
    const { stream, log } = capture();

    log.warn({ request: { url: `https://hs.example/_matrix?access_token=${SECRET}`, list: [{ deep: SECRET }] } }, "request failed");

    expect(stream.text()).not.toContain(SECRET);
    expect(JSON.parse(stream.lines[0] ?? "{}")).toMatchObject({
      request: { url: "https://hs.example/_matrix?access_token=[redacted]", list: [{ deep: "[redacted]" }] },
    });
  });

  it("scrubs the secret from an error's message and stack", () => {
    const { stream, log } = capture();
    const error = new Error(`request with Bearer ${SECRET} was refused`);
    expect(error.stack).toContain(SECRET);

    log.error({ err: error }, "admin call failed");
    log.error(error);

    expect(stream.lines).toHaveLength(2);
    expect(stream.text()).not.toContain(SECRET);
    const first = JSON.parse(stream.lines[0] ?? "{}") as { err?: { message?: string; stack?: string } };
    expect(first.err?.message).toBe("request with Bearer [redacted] was refused");
    expect(first.err?.stack).toContain("request with Bearer [redacted] was refused");
  });

  it("scrubs child loggers and their bindings too", () => {
    const { stream, log } = capture();

    log.child({ session: SECRET }).info({ extra: SECRET }, `child says ${SECRET}`);

    expect(stream.lines).toHaveLength(1);
    expect(stream.text()).not.toContain(SECRET);
  });

  it("redacts secret-bearing keys whatever their value", () => {
    const { stream, log } = capture([]);

    log.info(
      { accessToken: "short", config: { accessToken: "x" }, headers: { authorization: "Bearer abc" }, user: { password: "hunter2" } },
      "keys",
    );

    expect(JSON.parse(stream.lines[0] ?? "{}")).toMatchObject({
      accessToken: "[redacted]",
      config: { accessToken: "[redacted]" },
      headers: { authorization: "[redacted]" },
      user: { password: "[redacted]" },
    });
  });

  it("scrubs each of several secrets", () => {
    const other = "another-long-secret-value";
    const { stream, log } = capture([SECRET, other]);

    log.info(`${SECRET} and ${other}`);

    expect(stream.text()).not.toContain(SECRET);
    expect(stream.text()).not.toContain(other);
  });

  it("respects the level and keeps ordinary fields", () => {
    const stream = new MemoryStream();
    const log = createLogger("warn", [SECRET], stream);

    log.info("hidden");
    log.warn({ roomId: "!r:example.org" }, "shown");

    expect(stream.lines).toHaveLength(1);
    expect(JSON.parse(stream.lines[0] ?? "{}")).toMatchObject({ level: 40, msg: "shown", roomId: "!r:example.org", name: "warden" });
  });
});

describe("scrubSecrets", () => {
  it("treats the secret literally, not as a pattern", () => {
    expect(scrubSecrets("a.b*c a-b-c", ["a.b*c"])).toBe("[redacted] a-b-c");
  });
});

describe("createLogger's standard output", () => {
  /** Runs a Node script that logs through src/log.ts to its standard output; gives that output, its exit code and what the script told on stderr. */
  function runLogging(body: string): { lines: string[]; code: number | null; told: string } {
    const script = `
      import { createRequire } from "node:module";
      const fs = createRequire(import.meta.url)("node:fs");
      let writes = 0;
      for (const name of ["write", "writeSync", "writev", "writevSync"]) {
        const original = fs[name];
        fs[name] = (...args) => { writes++; return original(...args); };
      }
      const { createLogger } = await import(${JSON.stringify(new URL("../../src/log.ts", import.meta.url).href)});
      const log = createLogger("info", ["${SECRET}"]);
      ${body}
    `;
    const run = spawnSync(process.execPath, ["--input-type=module", "--no-warnings", "-e", script], { encoding: "utf8" });
    return { lines: run.stdout.split("\n").filter((line) => line !== ""), code: run.status, told: run.stderr };
  }

  it("writes the lines of a busy moment in a few writes, not one per line", () => {
    const run = runLogging(`
      for (let index = 0; index < 2000; index++) log.info({ index }, "room sent");
      log.flush(() => { process.stderr.write(String(writes)); });
    `);

    expect(run.code).toBe(0);
    expect(run.lines.map((line) => (JSON.parse(line) as { index: number }).index)).toEqual(Array.from({ length: 2000 }, (_, index) => index));
    expect(Number(run.told)).toBeGreaterThan(0);
    expect(Number(run.told)).toBeLessThan(50);
  });

  it("loses no line when the process exits at once, and scrubs them as any other", () => {
    const run = runLogging(`
      for (let index = 0; index < 2000; index++) log.info({ index }, "token ${SECRET}");
      process.exit(3);
    `);

    expect(run.code).toBe(3);
    expect(run.lines).toHaveLength(2000);
    expect(run.lines.join("\n")).not.toContain(SECRET);
  });
});
