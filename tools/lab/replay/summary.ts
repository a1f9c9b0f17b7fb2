/**
 * What `pulumi preview` prints before an update, for a lab plan: one line per resource that
 * changes (its symbol, name, type and the properties that differ; never a value), the unchanged
 * ones by name, and the counts.
 */
import { Op, Step } from "./diff";

export type Summary = Readonly<Record<Op, readonly string[]>>;

const ORDER: readonly Op[] = ["create", "update", "replace", "delete", "same"];

/** Resource names per operation, in plan order. */
export function summaryOf(steps: readonly Step[]): Summary {
    const names = (op: Op) => steps.filter(s => s.op === op).map(s => s.name);
    return {
        create: names("create"),
        update: names("update"),
        replace: names("replace"),
        delete: names("delete"),
        same: names("same"),
    };
}

/** Whether the plan changes nothing. */
export function unchanged(summary: Summary): boolean {
    return ORDER.every(op => op === "same" || summary[op].length === 0);
}

function symbol(step: Step): string {
    switch (step.op) {
        case "create":
            return "+ ";
        case "update":
            return "~ ";
        case "replace":
            return step.deleteBeforeReplace ? "-+" : "+-";
        case "delete":
            return "- ";
        case "same":
            return "  ";
    }
}

function detail(step: Step): string {
    const keys = step.keys.length > 0 ? ` [diff: ${step.keys.map(k => `~${k}`).join(",")}]` : "";
    const cause =
        step.cause === "forced"
            ? " (--replace)"
            : step.cause === "pending"
              ? " (old half of an earlier replacement)"
              : typeof step.cause === "object"
                ? ` (its dependency ${step.cause.dependentOf.split("::").pop()} is replaced delete-before-replace)`
                : "";
    const order =
        step.op === "replace" ? (step.deleteBeforeReplace ? " delete-before-replace" : " create-before-delete") : "";
    return `${keys}${order}${cause}`;
}

/** Wraps a list of names into lines of about `width` characters. */
function wrap(names: readonly string[], indent: string, width = 110): string[] {
    const lines: string[] = [];
    let line = "";
    for (const name of names) {
        if (line && line.length + name.length + 2 > width) {
            lines.push(`${indent}${line},`);
            line = "";
        }
        line = line ? `${line}, ${name}` : name;
    }
    return line ? [...lines, `${indent}${line}`] : lines;
}

/** The preview's lines. */
export function renderSummary(steps: readonly Step[], heading: string): string[] {
    const summary = summaryOf(steps);
    const changing = steps.filter(s => s.op !== "same");
    const count = (op: Op, label: string, mark: string) =>
        summary[op].length > 0 ? [`    ${mark}${summary[op].length} ${label}`] : [];
    return [
        heading,
        ...changing.map(s => `  ${symbol(s)} ${s.op.padEnd(8)} ${s.name}  ${s.type}${detail(s)}`),
        ...(summary.same.length > 0 ? [`     same     ${summary.same.length}:`, ...wrap(summary.same, "       ")] : []),
        "Resources:",
        ...count("create", "to create", "+ "),
        ...count("update", "to update", "~ "),
        ...count("replace", "to replace", "+-"),
        ...count("delete", "to delete", "- "),
        `    ${summary.same.length} unchanged`,
    ];
}
