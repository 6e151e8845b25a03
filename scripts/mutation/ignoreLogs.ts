/**
 * A Stryker ignore-plugin: no mutants inside a log call (`log.info(…)`, `this.log.warn(…)`,
 * `this.options.log.error(…)`). A log line's text and fields are for the people reading the log;
 * no behaviour depends on them, so a changed text is an equivalent mutant that only a test
 * matching log strings could notice, and such tests would pin wording, not behaviour. What
 * decides *whether* something is logged (an `if` around the call, a flag set beside it) is not
 * inside the call and is still mutated.
 *
 * Loaded by stryker.config.json (`appendPlugins`, `ignorers: ["log-calls"]`).
 */
import { declareValuePlugin, PluginKind } from "@stryker-mutator/api/plugin";

const LEVELS: ReadonlySet<string> = new Set(["trace", "debug", "info", "warn", "error", "fatal"]);

/** The few fields of a Babel node this reads; Stryker hands the plugin Babel's NodePath. */
interface Node {
  readonly type: string;
  readonly name?: string;
  readonly property?: Node;
  readonly object?: Node;
  readonly callee?: Node;
  readonly computed?: boolean;
  readonly expression?: Node;
  readonly body?: unknown;
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && "type" in value && typeof value.type === "string";
}

/** `log`, `x.log`, `this.log`, `this.options.log`: the thing that ends in a `log` name. */
function namesLog(node: Node | undefined): boolean {
  if (node === undefined) return false;
  if (node.type === "Identifier") return node.name === "log";
  return node.type === "MemberExpression" && node.computed !== true && node.property?.type === "Identifier" && node.property.name === "log";
}

/** Whether a Babel node is a call of a log level on a logger named `log`. */
export function isLogCall(node: unknown): boolean {
  if (!isNode(node) || node.type !== "CallExpression") return false;
  const callee = node.callee;
  if (callee?.type !== "MemberExpression" || callee.computed === true) return false;
  return callee.property?.type === "Identifier" && LEVELS.has(callee.property.name ?? "") && namesLog(callee.object);
}

/**
 * A log call, a statement that is only a log call (Stryker removes whole call statements too),
 * or a block of nothing but log calls (a `catch` that only logs: emptying it changes no behaviour).
 */
export function isLogStatementOrCall(node: unknown): boolean {
  if (isNode(node) && node.type === "ExpressionStatement") return isLogCall(node.expression);
  if (isNode(node) && node.type === "BlockStatement") {
    const body = Array.isArray(node.body) ? (node.body as unknown[]) : [];
    return body.length > 0 && body.every((statement) => isNode(statement) && statement.type === "ExpressionStatement" && isLogCall(statement.expression));
  }
  return isLogCall(node);
}

export const LOG_CALL_REASON = "a log call: its text and fields are for people reading the log, and no behaviour depends on them";

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, "log-calls", {
    shouldIgnore(path: unknown): string | undefined {
      const node = typeof path === "object" && path !== null && "node" in path ? path.node : undefined;
      return isLogStatementOrCall(node) ? LOG_CALL_REASON : undefined;
    },
  }),
];
