import { describe, expect, it } from "vitest";
import { needsText, parseSynapseVersion, supports, unsupportedAnswer } from "../../../src/synapse/features.js";

describe("Synapse features by version", () => {
  it("reads Synapse's version forms", () => {
    expect(parseSynapseVersion("1.163.2")).toEqual([1, 163]);
    expect(parseSynapseVersion("1.152.0rc1")).toEqual([1, 152]);
    expect(parseSynapseVersion(" 2.0.0 (b=main,abc)")).toEqual([2, 0]);
    expect(parseSynapseVersion("dendrite")).toBeUndefined();
  });

  it("says a feature is served from its first version on, and counts an unknown version as serving it", () => {
    expect(supports("1.152.0", "userReports")).toBe(true);
    expect(supports("1.151.9", "userReports")).toBe(false);
    expect(supports("1.99.0", "suspend")).toBe(false);
    expect(supports("2.1.0", "suspend")).toBe(true);
    expect(supports("0.200.0", "suspend")).toBe(false);
    expect(supports(undefined, "userReports")).toBe(true);
    expect(supports("unknown", "userReports")).toBe(true);
  });

  it("names the feature, the version it needs and the one running", () => {
    expect(needsText("userReports", "1.140.0")).toBe("reports about users needs Synapse 1.152 or later (this homeserver runs 1.140.0)");
    expect(needsText("suspend")).toBe("account suspension needs Synapse 1.110 or later");
  });

  it("reads M_UNRECOGNIZED and a bare 405 as an endpoint the homeserver lacks", () => {
    expect(unsupportedAnswer({ kind: "not-found", status: 404, errcode: "M_UNRECOGNIZED", userMessage: "" })).toBe(true);
    expect(unsupportedAnswer({ kind: "bad-request", status: 405, userMessage: "" })).toBe(true);
    expect(unsupportedAnswer({ kind: "not-found", status: 404, errcode: "M_NOT_FOUND", userMessage: "" })).toBe(false);
    expect(unsupportedAnswer({ kind: "bad-request", status: 405, errcode: "M_FORBIDDEN", userMessage: "" })).toBe(false);
  });
});

describe("the task queue listed by several statuses", () => {
  it("needs Synapse 1.163, and says so by name", () => {
    expect(supports("1.163.0", "taskListStatuses")).toBe(true);
    expect(supports("1.162.9", "taskListStatuses")).toBe(false);
    expect(needsText("taskListStatuses")).toBe("listing the task queue by several statuses needs Synapse 1.163 or later");
  });
});
