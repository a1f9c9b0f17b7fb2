/**
 * What `pulumi up` does with each resource of a changed program, decided as the engine and these
 * providers decide it (tools/lab/README.md, "Engine facts" E2 to E7): ignored
 * properties take their old values first; a component is updated when its inputs differ; a custom
 * resource is replaced when its provider says a changed property forces it (or `replaceOnChanges`
 * names it, or `--replace` asks), updated when anything else changed, and left alone otherwise.
 * A delete-before-replace replacement also deletes first the dependents its replacement would
 * replace. Only property names reach a step, never values (they may be secrets).
 */
import { RESOURCE_TYPES } from "../../../components/facts";
import { ResourceState, StackState } from "./state";

export type Op = "create" | "update" | "replace" | "delete" | "same";

export interface Step {
    readonly op: Op;
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** The recorded state (update, replace, delete, same). */
    readonly old?: ResourceState;
    /** The goal, its ignored properties at their old values (create, update, replace, same). */
    readonly goal?: ResourceState;
    /** Changed properties (update), or those that force the replacement (replace). */
    readonly keys: readonly string[];
    /** A replacement whose old resource goes before the new one is made. */
    readonly deleteBeforeReplace?: boolean;
    /** Why a replacement or delete happens beyond the resource's own diff. */
    readonly cause?: "forced" | "pending" | { readonly dependentOf: string };
    /** A delete-before-replace replacement: the dependents to delete before the old resource, in that order. */
    readonly deleteFirst?: readonly ResourceState[];
}

export interface PlanOptions {
    /** URNs to replace whatever their diff says (`pulumi up --replace URN`). */
    readonly replace?: readonly string[];
}

/** How one provider diffs its resources: which changed properties force a replacement, and when it deletes first. */
interface ProviderRules {
    readonly replaces: (property: string) => boolean;
    readonly deleteBeforeReplace: (inputs: Record<string, unknown>) => boolean;
}

/** The bridge deletes first any replacement of a resource whose name is set explicitly (README E5). */
const named = (inputs: Record<string, unknown>) => typeof inputs.name === "string" && inputs.name !== "";
const never = () => false;

/** The providers' rules (README E5). */
const RULES: Readonly<Record<string, ProviderRules>> = {
    // Only triggers force a replacement; anything else runs `update` (or `create`) again.
    [RESOURCE_TYPES.command]: { replaces: p => p === "triggers", deleteBeforeReplace: never },
    // Every input forces a new password.
    [RESOURCE_TYPES.randomPassword]: { replaces: () => true, deleteBeforeReplace: never },
    // So do a PSK's (length, keepers).
    [RESOURCE_TYPES.randomBytes]: { replaces: () => true, deleteBeforeReplace: never },
    // Every input of a key or certificate forces a new one.
    [RESOURCE_TYPES.tlsPrivateKey]: { replaces: () => true, deleteBeforeReplace: never },
    [RESOURCE_TYPES.tlsSelfSignedCert]: { replaces: () => true, deleteBeforeReplace: never },
    [RESOURCE_TYPES.tlsCertRequest]: { replaces: () => true, deleteBeforeReplace: never },
    [RESOURCE_TYPES.tlsLocallySignedCert]: { replaces: () => true, deleteBeforeReplace: never },
    // A provider is reconfigured in place; its resources keep it.
    [RESOURCE_TYPES.postgresqlProvider]: { replaces: never, deleteBeforeReplace: never },
    [RESOURCE_TYPES.postgresqlRole]: { replaces: never, deleteBeforeReplace: named },
    [RESOURCE_TYPES.postgresqlDatabase]: {
        replaces: p => ["template", "encoding", "lcCollate", "lcCtype"].includes(p),
        deleteBeforeReplace: named,
    },
    [RESOURCE_TYPES.postgresqlGrant]: { replaces: p => p !== "privileges", deleteBeforeReplace: () => true },
    [RESOURCE_TYPES.postgresqlReplicationSlot]: { replaces: () => true, deleteBeforeReplace: named },
};

function rulesFor(type: string): ProviderRules {
    const rules = RULES[type];
    if (!rules) {
        throw new Error(
            `the lab does not know how the provider of ${type} diffs its resources; add its rules to tools/lab/replay/diff.ts`,
        );
    }
    return rules;
}

/** A property path's parts: `connection.host`, `triggers[0]`, `tags["a.b"]`, `triggers[*]`. */
export function parsePath(path: string): string[] {
    return [...path.matchAll(/\["([^"]*)"\]|\[(\d+|\*)\]|([^.[\]]+)/g)].map(m => m[1] ?? m[2] ?? m[3]);
}

function isObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object";
}

export function deepEqual(a: unknown, b: unknown): boolean {
    if (a === b) {
        return true;
    }
    if (Array.isArray(a) || Array.isArray(b)) {
        return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
    }
    if (isObject(a) && isObject(b)) {
        const keys = new Set(
            [...Object.keys(a), ...Object.keys(b)].filter(k => a[k] !== undefined || b[k] !== undefined),
        );
        return [...keys].every(k => deepEqual(a[k], b[k]));
    }
    return false;
}

/** Every changed path between two values, as the engine's detailed diff names them. */
export function changedPaths(a: unknown, b: unknown, prefix = ""): string[] {
    if (deepEqual(a, b)) {
        return [];
    }
    const join = (k: string | number) => (typeof k === "number" ? `${prefix}[${k}]` : prefix ? `${prefix}.${k}` : k);
    if (Array.isArray(a) && Array.isArray(b)) {
        return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => changedPaths(a[i], b[i], join(i))).flat();
    }
    if (isObject(a) && isObject(b) && !Array.isArray(a) && !Array.isArray(b)) {
        return [...new Set([...Object.keys(a), ...Object.keys(b)])]
            .sort()
            .flatMap(k => changedPaths(a[k], b[k], join(k)));
    }
    return [prefix];
}

/** Whether `pattern` (with `*` for any index or key) names `path`, a part of it or a whole it is part of. */
function pathMatches(pattern: string, path: string): boolean {
    const p = parsePath(pattern);
    const q = parsePath(path);
    const n = Math.min(p.length, q.length);
    return p.slice(0, n).every((part, i) => part === "*" || part === q[i]);
}

/** The goal with each ignored property set back to its old value, or removed where it had none (README E2). */
export function withIgnoredChanges(old: ResourceState, goal: ResourceState): ResourceState {
    const paths = goal.options.ignoreChanges ?? [];
    if (paths.length === 0) {
        return goal;
    }
    const inputs = structuredClone(goal.inputs);
    for (const path of paths) {
        const parts = parsePath(path);
        let from: unknown = old.inputs;
        for (const part of parts) {
            from = isObject(from) ? from[part] : undefined;
        }
        let into: Record<string, unknown> = inputs;
        for (const part of parts.slice(0, -1)) {
            if (!isObject(into[part])) {
                into[part] = {};
            }
            into = into[part] as Record<string, unknown>;
        }
        const last = parts[parts.length - 1];
        if (from === undefined) {
            delete into[last];
        } else {
            into[last] = structuredClone(from);
        }
    }
    return { ...goal, inputs };
}

export interface ResourceDiff {
    /** Changed property paths. */
    readonly changed: readonly string[];
    /** Properties that force a replacement (empty: an update, or nothing). */
    readonly replaceKeys: readonly string[];
    readonly deleteBeforeReplace: boolean;
}

/** The two provider references name the same provider (a default one of another version counts as the same). */
function sameProvider(a?: string, b?: string): boolean {
    const defaultOf = (urn?: string) => /::pulumi:providers:([^:]+)::default(_[0-9_]+)?$/.exec(urn ?? "")?.[1];
    return a === b || (defaultOf(a) !== undefined && defaultOf(a) === defaultOf(b));
}

/** The engine's diff of one resource against its recorded state; `goal` has its ignored properties substituted already. */
export function diffResource(old: ResourceState, goal: ResourceState, forced = false): ResourceDiff {
    const changed = changedPaths(old.inputs, goal.inputs);
    if (!goal.custom) {
        // No provider: the engine compares the inputs itself, and never replaces a component for them.
        return { changed, replaceKeys: forced ? ["id"] : [], deleteBeforeReplace: false };
    }
    const rules = rulesFor(goal.type);
    const deleteBeforeReplace = goal.options.deleteBeforeReplace ?? rules.deleteBeforeReplace(goal.inputs);
    if (!sameProvider(old.provider, goal.provider)) {
        return { changed: [...changed, "provider"], replaceKeys: ["provider"], deleteBeforeReplace };
    }
    const topLevel = [...new Set(changed.map(p => parsePath(p)[0]))];
    const replaceKeys = [
        ...(forced ? ["id"] : []),
        ...topLevel.filter(rules.replaces),
        ...changed.filter(p => (goal.options.replaceOnChanges ?? []).some(pattern => pathMatches(pattern, p))),
    ];
    return { changed, replaceKeys: [...new Set(replaceKeys)], deleteBeforeReplace };
}

/** Every recorded resource that depends on `root`, directly or not, in the recorded (registration) order. */
function dependentsOf(root: ResourceState, olds: readonly ResourceState[]): ResourceState[] {
    const found = new Set<string>([root.urn]);
    const out: ResourceState[] = [];
    for (const r of olds) {
        const on = [
            ...r.dependencies,
            ...(r.provider ? [r.provider] : []),
            ...(r.options.deletedWith ? [r.options.deletedWith] : []),
        ];
        if (r.urn !== root.urn && on.some(u => found.has(u))) {
            found.add(r.urn);
            out.push(r);
        }
    }
    return out;
}

/**
 * The dependents that a delete-before-replace of `root` must delete first (the engine's
 * calculateDependentReplacements): those whose inputs come from a resource being replaced and
 * whose provider would replace them once those inputs are unknown, or whose provider is replaced.
 */
function dependentReplacements(
    root: ResourceState,
    olds: readonly ResourceState[],
    registered: ReadonlySet<string>,
): ResourceState[] {
    const replaced = new Set([root.urn]);
    const found: ResourceState[] = [];
    for (const d of dependentsOf(root, olds).filter(d => !registered.has(d.urn) && d.custom)) {
        const unknown = Object.entries(d.propertyDependencies)
            .filter(([, urns]) => urns.some(u => replaced.has(u)))
            .map(([k]) => k);
        const rules = rulesFor(d.type);
        const replace =
            (d.provider !== undefined && replaced.has(d.provider)) ||
            unknown.some(k => rules.replaces(k) || (d.options.replaceOnChanges ?? []).some(p => pathMatches(p, k)));
        if (replace) {
            found.push(d);
            replaced.add(d.urn);
        }
    }
    return found;
}

const stepOf = (op: Op, r: ResourceState, rest: Partial<Step> = {}): Step => ({
    op,
    urn: r.urn,
    type: r.type,
    name: r.name,
    keys: [],
    ...rest,
});

/**
 * The steps of one `pulumi up`: one per goal in registration order (create, update, replace or
 * same), then a delete per recorded resource the goals no longer have, and per old half of an
 * earlier replacement still pending. Throws when a protected resource would be deleted or replaced.
 */
export function planChanges(
    prior: StackState | undefined,
    goals: readonly ResourceState[],
    options: PlanOptions = {},
): Step[] {
    const olds = prior?.resources ?? [];
    const live = new Map(olds.filter(r => !r.pendingDelete).map(r => [r.urn, r]));
    const forced = new Set(options.replace ?? []);
    const registered = new Set<string>();
    const dependentOf = new Map<string, string>();
    const problems: string[] = [];
    const steps: Step[] = [];
    for (const target of goals) {
        registered.add(target.urn);
        const old = live.get(target.urn);
        if (!old) {
            steps.push(stepOf("create", target, { goal: target }));
            continue;
        }
        const goal = withIgnoredChanges(old, target);
        const root = dependentOf.get(goal.urn);
        if (root) {
            // Deleted already, in the chain of the replacement it depends on: made again here.
            steps.push(
                stepOf("replace", goal, {
                    old,
                    goal,
                    keys: diffResource(old, goal).changed,
                    deleteBeforeReplace: true,
                    cause: { dependentOf: root },
                }),
            );
            continue;
        }
        const diff = diffResource(old, goal, forced.has(goal.urn));
        if (diff.replaceKeys.length > 0) {
            if (old.options.protect || goal.options.protect) {
                problems.push(
                    `${goal.urn} is protected and would be replaced (${diff.replaceKeys.join(", ")}); remove protect first`,
                );
            }
            const deleteFirst = diff.deleteBeforeReplace
                ? dependentReplacements(
                      old,
                      olds.filter(r => !r.pendingDelete),
                      registered,
                  ).filter(d => !dependentOf.has(d.urn))
                : [];
            deleteFirst.forEach(d => dependentOf.set(d.urn, goal.urn));
            steps.push(
                stepOf("replace", goal, {
                    old,
                    goal,
                    keys: diff.replaceKeys,
                    deleteBeforeReplace: diff.deleteBeforeReplace,
                    ...(forced.has(goal.urn) ? { cause: "forced" as const } : {}),
                    ...(diff.deleteBeforeReplace ? { deleteFirst: deleteFirst.reverse() } : {}),
                }),
            );
        } else {
            steps.push(stepOf(diff.changed.length > 0 ? "update" : "same", goal, { old, goal, keys: diff.changed }));
        }
    }
    const wanted = new Set(goals.map(g => g.urn));
    for (const old of olds.filter(r => r.pendingDelete || !wanted.has(r.urn))) {
        if (old.options.protect && !old.pendingDelete) {
            problems.push(`${old.urn} is protected and would be deleted; remove protect first`);
        }
        const root = dependentOf.get(old.urn);
        steps.push(
            stepOf("delete", old, {
                old,
                ...(old.pendingDelete
                    ? { cause: "pending" as const }
                    : root && !wanted.has(old.urn)
                      ? { cause: { dependentOf: root } }
                      : {}),
            }),
        );
    }
    const unknownTargets = [...forced].filter(u => !wanted.has(u));
    if (unknownTargets.length > 0) {
        problems.push(`--replace names no resource of the plan: ${unknownTargets.join(", ")}`);
    }
    if (problems.length > 0) {
        throw new Error(`cannot plan this change:\n  - ${problems.join("\n  - ")}`);
    }
    return steps;
}
