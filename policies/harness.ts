/**
 * Runs the pack's rules without the engine: builds the arguments the engine would pass (as the
 * AWS policy packs' tests do) and collects violations. The tests and the preview use it; neither
 * imports the pack's entry point, which starts a gRPC server.
 */
import {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { POLICIES } from "./rules";

export interface Violation {
    readonly policy: string;
    readonly level: "mandatory" | "advisory";
    readonly message: string;
    readonly resource?: string;
}

/** A resource as a rule sees it. */
export interface ResourceInput {
    readonly type: string;
    readonly name: string;
    // As the engine hands them to a policy: untyped, whatever the resource declared.
    readonly props: PolicyResource["props"];
    readonly parent?: string;
}

const urnOf = (r: ResourceInput) => `urn:pulumi:offline::zabbix-ha::${r.type}::${r.name}`;

export function policyResources(resources: readonly ResourceInput[]): PolicyResource[] {
    const built = resources.map(r => ({
        type: r.type,
        name: r.name,
        props: r.props,
        urn: urnOf(r),
        opts: {} as PolicyResource["opts"],
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    })) as unknown as PolicyResource[];
    return built;
}

export function resourceArgs(r: ResourceInput): ResourceValidationArgs {
    return {
        type: r.type,
        name: r.name,
        props: r.props,
        urn: urnOf(r),
        opts: {} as ResourceValidationArgs["opts"],
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: () => ({}) as never,
        notApplicable: () => undefined as never,
    } as unknown as ResourceValidationArgs;
}

export function stackArgs(resources: readonly ResourceInput[]): StackValidationArgs {
    return {
        resources: policyResources(resources),
        stackTags: new Map(),
        getConfig: () => ({}) as never,
    } as unknown as StackValidationArgs;
}

function isStackPolicy(p: ResourceValidationPolicy | StackValidationPolicy): p is StackValidationPolicy {
    return "validateStack" in p;
}

/** Runs one rule on the resources; returns its violations. */
export async function runPolicy(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    resources: readonly ResourceInput[],
): Promise<Violation[]> {
    const found: Violation[] = [];
    const level = (policy.enforcementLevel ?? "advisory") === "mandatory" ? "mandatory" : "advisory";
    // One finding is one violation, however many times a rule reports it (a rule that walks two
    // views of the same thing must not double a preview's count).
    const seen = new Set<string>();
    const record = (resource?: string) => (message: string, urn?: string) => {
        const at = urn ?? resource;
        const key = JSON.stringify([message, at]);
        if (!seen.has(key)) {
            seen.add(key);
            found.push({ policy: policy.name, level, message, ...(at ? { resource: at } : {}) });
        }
    };
    if (isStackPolicy(policy)) {
        await policy.validateStack(stackArgs(resources), record());
    } else {
        const validate = policy.validateResource ?? [];
        const validations = Array.isArray(validate) ? validate : [validate];
        for (const r of resources) {
            for (const check of validations) {
                await check(resourceArgs(r), record(urnOf(r)));
            }
        }
    }
    return found;
}

/** Runs every rule of the pack. */
export async function runPolicies(resources: readonly ResourceInput[]): Promise<Violation[]> {
    const all: Violation[] = [];
    for (const policy of POLICIES) {
        all.push(...(await runPolicy(policy, resources)));
    }
    return all;
}
