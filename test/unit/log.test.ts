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
