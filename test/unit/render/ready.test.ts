import { describe, expect, it } from "vitest";
import { renderReady, type ReadyFacts } from "../../../src/render/ready.js";

const FACTS: ReadyFacts = { version: "0.1.0", homeserverUrl: "https://matrix.example.org", serverVersion: "1.163.2", prefix: "!", resumedTasks: 0, damagedFiles: [] };

describe("the ready message", () => {
  it("names one address when the admin API answers where clients go", () => {
    for (const facts of [FACTS, { ...FACTS, adminUrl: FACTS.homeserverUrl }]) {
      const message = renderReady(facts);
      expect(message.plain).toBe("Warden 0.1.0 is ready on https://matrix.example.org (Synapse 1.163.2). Type !help for the commands.");
      expect(message.html).toContain("is ready on https://matrix.example.org (Synapse 1.163.2).");
    }
  });

  it("names both when the admin API answers at its own address", () => {
    const message = renderReady({ ...FACTS, adminUrl: "http://synapse-main.internal:8008" });

    expect(message.plain).toBe(
      "Warden 0.1.0 is ready on https://matrix.example.org, admin API at http://synapse-main.internal:8008 (Synapse 1.163.2). Type !help for the commands.",
    );
    expect(message.html).toContain("is ready on https://matrix.example.org, admin API at http://synapse-main.internal:8008 (Synapse 1.163.2).");
  });

  it("escapes an address in the HTML", () => {
    expect(renderReady({ ...FACTS, adminUrl: "http://a.internal/<b>" }).html).toContain("admin API at http://a.internal/&lt;b&gt;");
  });
});
