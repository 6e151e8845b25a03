import { describe, expect, it } from "vitest";
import { isLogStatementOrCall, LOG_CALL_REASON, strykerPlugins } from "../../../scripts/mutation/ignoreLogs.js";

// Babel's node shapes, as Stryker hands them to an ignore-plugin.
const id = (name: string) => ({ type: "Identifier", name });
const member = (object: object, property: string, computed = false) => ({ type: "MemberExpression", object, property: id(property), computed });
const call = (callee: object) => ({ type: "CallExpression", callee, arguments: [] });
const statement = (expression: object) => ({ type: "ExpressionStatement", expression });
const thisLog = member({ type: "ThisExpression" }, "log");

describe("the mutation run leaves log calls alone", () => {
  it("knows a log call by a level called on something named log", () => {
    expect(isLogStatementOrCall(call(member(id("log"), "info")))).toBe(true);
    expect(isLogStatementOrCall(call(member(thisLog, "warn")))).toBe(true);
    expect(isLogStatementOrCall(call(member(member(member({ type: "ThisExpression" }, "options"), "log"), "error")))).toBe(true);
    expect(isLogStatementOrCall(statement(call(member(thisLog, "debug"))))).toBe(true);
    expect(isLogStatementOrCall({ type: "BlockStatement", body: [statement(call(member(thisLog, "warn"))), statement(call(member(id("log"), "info")))] })).toBe(true);
  });

  it("mutates a block that does more than log, and an empty one", () => {
    expect(isLogStatementOrCall({ type: "BlockStatement", body: [statement(call(member(thisLog, "warn"))), statement(call(member(id("store"), "update")))] })).toBe(false);
    expect(isLogStatementOrCall({ type: "BlockStatement", body: [] })).toBe(false);
  });

  it("mutates every other call: a notifier's, a level that is not a log's, a computed one, a non-logger", () => {
    expect(isLogStatementOrCall(call(member(id("notifier"), "info")))).toBe(false);
    expect(isLogStatementOrCall(call(member(thisLog, "child")))).toBe(false);
    expect(isLogStatementOrCall(call(member(thisLog, "info", true)))).toBe(false);
    expect(isLogStatementOrCall(call(id("log")))).toBe(false);
    expect(isLogStatementOrCall(call(member(member(id("log"), "x", true), "info")))).toBe(false);
    expect(isLogStatementOrCall(statement(call(member(id("store"), "update"))))).toBe(false);
    expect(isLogStatementOrCall(statement(id("log")))).toBe(false);
    expect(isLogStatementOrCall(undefined)).toBe(false);
  });

  it("gives Stryker the reason for each mutant it ignores", () => {
    const [plugin] = strykerPlugins;
    const ignorer = plugin !== undefined && "value" in plugin ? plugin.value : undefined;
    expect(plugin).toMatchObject({ kind: "Ignore", name: "log-calls" });
    expect(ignorer?.shouldIgnore({ node: call(member(id("log"), "info")) })).toBe(LOG_CALL_REASON);
    expect(ignorer?.shouldIgnore({ node: call(member(id("store"), "info")) })).toBeUndefined();
  });
});
