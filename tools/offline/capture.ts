/**
 * The one way to run a stack program offline: under the Pulumi SDK's mock runtime (no CLI, no
 * engine, no network), capturing every resource with its resolved inputs, parent and dependencies.
 * The preview, the tests, the policy checks and the lab all read this plan.
 */
import { randomBytes, randomInt } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { hashSync } from "bcryptjs";
import { RESOURCE_TYPES } from "../../components/facts";
import { tlsOutputs } from "./tlsMock";

export interface CapturedResource {
    /** `type::name`, unique within a plan. */
    readonly id: string;
    readonly type: string;
    readonly name: string;
    /** Whether the resource is a custom (provider) resource rather than a component. */
    readonly custom: boolean;
    /** Inputs as the provider would receive them, secrets revealed (the plan is in memory only). */
    readonly inputs: Record<string, unknown>;
    /** Top-level input names whose values were Pulumi secrets. */
    readonly secretInputs: readonly string[];
    /** Outputs the mock provider returned (random values for RandomPassword). */
    readonly outputs: Record<string, unknown>;
    /** Parent id, undefined for the stack itself. */
    readonly parent?: string;
    /**
     * Ids this resource depends on, as the engine would order it: declared dependsOn and the resources
     * behind its Output-valued inputs, components expanded to their custom descendants, and its provider.
     */
    readonly dependsOn: readonly string[];
    /** Ids behind each Output-valued top-level input (components expanded), as the engine's property dependencies. */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    /** The explicit provider's id, when the resource names one. */
    readonly provider?: string;
    /** The resource options a later change is planned and applied by (absent ones unset). */
    readonly options?: CapturedOptions;
}

/** Resource options that decide how the engine diffs, replaces and deletes a resource. */
export interface CapturedOptions {
    readonly ignoreChanges?: readonly string[];
    readonly replaceOnChanges?: readonly string[];
    readonly deleteBeforeReplace?: boolean;
    readonly retainOnDelete?: boolean;
    readonly protect?: boolean;
    /** Id of the resource whose deletion also deletes this one. */
    readonly deletedWith?: string;
}

/** What `prior` is asked about a resource as the mock registers it. */
export interface PriorQuery extends Pick<CapturedResource, "id" | "type" | "name" | "custom" | "inputs"> {
    /** Ids of its parents, the outermost first (the stack itself excluded). */
    readonly ancestors: readonly string[];
    readonly options: CapturedOptions;
}

export interface CapturedPlan {
    readonly project: string;
    readonly stack: string;
    readonly resources: readonly CapturedResource[];
    /** Stack outputs, when the program finished. */
    readonly outputs?: Record<string, unknown>;
    /** The program's error (a config error lists every problem), when it failed. */
    readonly error?: Error;
}

export interface CaptureOptions {
    /** Config values as the engine would pass them: `project:key` to string (JSON for structured values). */
    readonly config: Record<string, string>;
    /** Config keys that are secrets. */
    readonly secretKeys?: readonly string[];
    readonly project?: string;
    readonly stack?: string;
    /**
     * Outputs a previous deployment recorded for this resource, when the engine would keep them (it
     * is unchanged): a RandomPassword keeps its result. Undefined plans it afresh, as a create.
     */
    readonly prior?: (query: PriorQuery) => Record<string, unknown> | undefined;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * The bcrypt cost of the capture's hashes. bcryptjs, not PHP's password_hash: the capture also runs
 * in jest and in the preview on a machine without php-cli; its `$2b$` hashes are what PHP's
 * password_verify (the Zabbix frontend) accepts, as the real provider's `$2a$` ones are. bcrypt's
 * lowest cost, not the provider's 10 (Go's DefaultCost): the cost is written in the hash and
 * password_verify reads it from there, and at 10 every plan paid ~75 ms per RandomPassword (6 in a
 * plan of prod, a fifth of its time) for a hash that only the lab's throwaway hosts ever check.
 */
export const BCRYPT_COST = 4;

/**
 * What the mock providers return: real random passwords and a real bcrypt hash of each (the lab
 * replays the plan on real hosts, where Zabbix checks the hash), real keys and certificates,
 * inputs echoed otherwise.
 */
function mockOutputs(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
    if (type === RESOURCE_TYPES.randomPassword) {
        const length = Number(inputs.length ?? 32);
        const result = Array.from({ length }, () => ALNUM[randomInt(ALNUM.length)]).join("");
        return { ...inputs, result, bcryptHash: hashSync(result, BCRYPT_COST) };
    }
    if (type === RESOURCE_TYPES.randomBytes) {
        const bytes = randomBytes(Number(inputs.length ?? 32));
        return { ...inputs, hex: bytes.toString("hex"), base64: bytes.toString("base64") };
    }
    if (type === RESOURCE_TYPES.command) {
        return { ...inputs, stdout: "", stderr: "" };
    }
    return tlsOutputs(type, inputs) ?? inputs;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Unwraps the SDK's serialized secrets, noting which top-level inputs held one. */
function reveal(value: unknown, onSecret: () => void): unknown {
    if (Array.isArray(value)) {
        return value.map(v => reveal(v, onSecret));
    }
    if (value && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270") {
            onSecret();
            return reveal(record.value, onSecret);
        }
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, reveal(v, onSecret)]));
    }
    return value;
}

interface Declared {
    readonly resource: pulumi.Resource;
    readonly id: string;
    readonly parent?: pulumi.Resource;
    readonly dependsOn: readonly pulumi.Resource[];
    /** Resources behind Output-valued inputs (a role's name in a grant): the engine orders by them too. */
    readonly implied: readonly pulumi.Resource[];
    readonly provider?: pulumi.ProviderResource;
    /** Resources behind each top-level input. */
    readonly byProperty: ReadonlyMap<string, ReadonlySet<pulumi.Resource>>;
    readonly options: CapturedOptions;
}

/** The resources an input value depends on through the Outputs inside it. */
function impliedDependencies(value: unknown, found = new Set<pulumi.Resource>(), depth = 0): Set<pulumi.Resource> {
    if (depth > 8 || value === null || typeof value !== "object") {
        return found;
    }
    if (pulumi.Output.isInstance(value)) {
        // Every Output carries the resources it was computed from.
        const resources = (value as unknown as { resources(): Set<pulumi.Resource> }).resources();
        resources.forEach(r => found.add(r));
        return found;
    }
    for (const inner of Array.isArray(value) ? value : Object.values(value as object)) {
        impliedDependencies(inner, found, depth + 1);
    }
    return found;
}

/** The options that matter to a later change, as set (unset ones left out); deletedWith by its id. */
function capturedOptions(
    opts: pulumi.CustomResourceOptions,
    idOf: (r: pulumi.Resource) => string | undefined,
): CapturedOptions {
    return Object.fromEntries(
        Object.entries({
            ignoreChanges: opts.ignoreChanges,
            replaceOnChanges: opts.replaceOnChanges,
            deleteBeforeReplace: opts.deleteBeforeReplace,
            retainOnDelete: opts.retainOnDelete,
            protect: opts.protect,
            deletedWith: opts.deletedWith && idOf(opts.deletedWith),
        }).filter(([, v]) => v !== undefined),
    );
}

function dependsOnList(value: unknown): pulumi.Resource[] {
    if (value === undefined) {
        return [];
    }
    // An Output-valued dependsOn cannot be read synchronously; the library never passes one.
    return (Array.isArray(value) ? value : [value]).filter((r): r is pulumi.Resource => pulumi.Resource.isInstance(r));
}

/**
 * Runs `program` under mocks with the given config and returns the captured plan.
 *
 * The SDK records a stack trace for every promise it makes (dozens per resource, for its report of
 * leaked promises): on a 100-site plan that was half the capture's time and much of its garbage.
 * So the program runs with stack traces off, and a program that fails runs once more with them
 * on, so that its error keeps a useful stack (a configuration error fails before any resource, so
 * its second run costs next to nothing). The SDK still takes each resource's source position: it
 * asks for the whole stack itself.
 */
export async function capturePlan(program: () => unknown, options: CaptureOptions): Promise<CapturedPlan> {
    const plan = await withStackTraceLimit(0, () => captureOnce(program, options));
    return plan.error ? captureOnce(program, options) : plan;
}

/** Runs `work` with V8's stack trace depth set to `frames`, restoring it afterwards. */
async function withStackTraceLimit<T>(frames: number, work: () => Promise<T>): Promise<T> {
    const previous = Error.stackTraceLimit;
    Error.stackTraceLimit = frames;
    try {
        return await work();
    } finally {
        Error.stackTraceLimit = previous;
    }
}

async function captureOnce(program: () => unknown, options: CaptureOptions): Promise<CapturedPlan> {
    const project = options.project ?? "zabbix-ha";
    const stack = options.stack ?? "offline";
    const registered = new Map<
        string,
        { inputs: Record<string, unknown>; outputs: Record<string, unknown>; secrets: string[]; custom: boolean }
    >();
    const prior = options.prior;
    const declaredIds = new Map<string, Declared>();
    const declaredOf = new Map<pulumi.Resource, Declared>();
    const priorQuery = (d: Declared, custom: boolean, inputs: Record<string, unknown>): PriorQuery => {
        const ancestors: string[] = [];
        for (let p = d.parent && declaredOf.get(d.parent); p; p = p.parent && declaredOf.get(p.parent)) {
            ancestors.unshift(p.id);
        }
        return {
            id: d.id,
            type: d.id.split("::")[0],
            name: d.id.slice(d.id.indexOf("::") + 2),
            custom,
            inputs,
            ancestors,
            options: d.options,
        };
    };
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const secrets: string[] = [];
                const inputs = Object.fromEntries(
                    Object.entries(args.inputs ?? {}).map(([k, v]) => [k, reveal(v, () => secrets.push(k))]),
                );
                const id = `${args.type}::${args.name}`;
                const query = prior && declaredIds.get(id);
                const outputs =
                    (query && prior(priorQuery(query, args.custom ?? true, inputs))) || mockOutputs(args.type, inputs);
                registered.set(`${args.type}::${args.name}`, { inputs, outputs, secrets, custom: args.custom ?? true });
                return { id: `${args.name}-id`, state: outputs };
            },
            call(args) {
                return args.inputs;
            },
        },
        project,
        stack,
        true,
    );
    pulumi.runtime.setAllConfig({ ...options.config }, [...(options.secretKeys ?? [])]);

    const declared: Declared[] = [];
    let outputs: Record<string, unknown> | undefined;
    let error: Error | undefined;
    try {
        outputs = (await pulumi.runtime.runInPulumiStack(async () => {
            pulumi.runtime.registerStackTransformation(args => {
                const opts = args.opts as pulumi.CustomResourceOptions;
                const byProperty = new Map(
                    Object.entries(args.props ?? {}).map(([k, v]) => [k, impliedDependencies(v)]),
                );
                const entry: Declared = {
                    resource: args.resource,
                    id: `${args.type}::${args.name}`,
                    parent: args.opts.parent,
                    dependsOn: dependsOnList(args.opts.dependsOn),
                    implied: [...new Set([...byProperty.values()].flatMap(s => [...s]))],
                    provider: opts.provider,
                    byProperty,
                    options: capturedOptions(opts, r => declaredOf.get(r)?.id),
                };
                declared.push(entry);
                declaredIds.set(entry.id, entry);
                declaredOf.set(entry.resource, entry);
                return undefined;
            });
            // Caught here, not outside: a failing init would also reject the stack's own registration.
            try {
                return await program();
            } catch (err) {
                error = err instanceof Error ? err : new Error(String(err));
                return undefined;
            }
        })) as Record<string, unknown> | undefined;
    } catch (err) {
        error ??= err instanceof Error ? err : new Error(String(err));
    }
    // Let registrations still in flight reach the mock monitor.
    await new Promise(resolve => setImmediate(resolve));
    await pulumi.runtime.disconnect();
    return { project, stack, resources: assemble(declared, registered), outputs, error };
}

function assemble(
    declared: readonly Declared[],
    registered: Map<
        string,
        { inputs: Record<string, unknown>; outputs: Record<string, unknown>; secrets: string[]; custom: boolean }
    >,
): CapturedResource[] {
    const idOf = new Map(declared.map(d => [d.resource, d.id]));
    const children = new Map<string, string[]>();
    for (const d of declared) {
        const parent = d.parent && idOf.get(d.parent);
        if (parent) {
            const siblings = children.get(parent);
            if (siblings) {
                siblings.push(d.id);
            } else {
                children.set(parent, [d.id]);
            }
        }
    }
    const customIds = new Set(
        declared
            .filter(d => registered.get(d.id)?.custom !== false && !pulumi.ComponentResource.isInstance(d.resource))
            .map(d => d.id),
    );
    // Depending on a component means depending on every custom resource beneath it, as the engine does.
    // Many resources depend on one component (a host's steps on the host): expand each once.
    const expanded = new Map<string, readonly string[]>();
    const expand = (id: string): readonly string[] => {
        if (customIds.has(id)) {
            return [id];
        }
        let found = expanded.get(id);
        if (!found) {
            found = (children.get(id) ?? []).flatMap(expand);
            expanded.set(id, found);
        }
        return found;
    };
    return declared.map(d => {
        const reg = registered.get(d.id);
        const deps = new Set<string>([...d.dependsOn, ...d.implied].flatMap(r => expand(idOf.get(r) ?? "")));
        const providerId = d.provider && idOf.get(d.provider);
        if (providerId) {
            deps.add(providerId);
        }
        return {
            id: d.id,
            type: d.id.split("::")[0],
            name: d.id.slice(d.id.indexOf("::") + 2),
            custom: customIds.has(d.id),
            inputs: reg?.inputs ?? {},
            secretInputs: reg?.secrets ?? [],
            outputs: reg?.outputs ?? {},
            parent: d.parent && idOf.get(d.parent),
            dependsOn: [...deps].filter(Boolean),
            propertyDependencies: Object.fromEntries(
                [...d.byProperty]
                    .filter(([, rs]) => rs.size > 0)
                    .map(([k, rs]) => [
                        k,
                        [...new Set([...rs].flatMap(r => expand(idOf.get(r) ?? "")))].filter(Boolean),
                    ]),
            ),
            ...(providerId ? { provider: providerId } : {}),
            options: d.options,
        };
    });
}

/** Resources of one type. */
export function ofType(plan: CapturedPlan, type: string): CapturedResource[] {
    return plan.resources.filter(r => r.type === type);
}

/** Every resource the given one depends on, directly or through others. */
export function transitiveDependencies(plan: CapturedPlan, id: string): Set<string> {
    const byId = new Map(plan.resources.map(r => [r.id, r]));
    const seen = new Set<string>();
    const visit = (current: string) => {
        for (const dep of byId.get(current)?.dependsOn ?? []) {
            if (!seen.has(dep)) {
                seen.add(dep);
                visit(dep);
            }
        }
    };
    visit(id);
    return seen;
}
