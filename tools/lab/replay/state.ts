/**
 * The lab's record of a deployment, per resource URN, as the engine keeps a stack's state: what
 * was applied (inputs, with ignored properties at their old values), what came back (outputs; a
 * command's stdout and stderr of its last run), the options later changes are planned by, the
 * dependencies deletes are ordered by, and the provider. It lives in the lab's state file (root's,
 * 0600: inputs hold secrets, as the engine's state does, encrypted there).
 */
import { CapturedOptions, CapturedPlan, CapturedResource } from "../../offline";
import { defaultProviderUrn, isProviderType, urnOf } from "./urn";

/** The options a later change is planned and deleted by, as captured; `deletedWith` holds a URN here. */
export type ResourceOptions = CapturedOptions;

export interface ResourceState {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** A custom (provider) resource, or a component. */
    readonly custom: boolean;
    /** Parent URN; undefined under the stack itself. */
    readonly parent?: string;
    readonly inputs: Record<string, unknown>;
    /** Top-level inputs that were secrets (never printed). */
    readonly secretInputs: readonly string[];
    readonly outputs: Record<string, unknown>;
    readonly options: ResourceOptions;
    /** URNs this resource depends on: dependsOn and the resources behind its inputs (not its provider). */
    readonly dependencies: readonly string[];
    /** URNs behind each top-level input. */
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
    /** Provider URN (explicit, or the package's default); none for components and providers. */
    readonly provider?: string;
    /**
     * The old half of a replacement whose delete has not run yet (the engine's `delete: true`): the
     * next apply deletes it, after everything else.
     */
    readonly pendingDelete?: boolean;
}

export interface StackState {
    readonly version: 1;
    readonly project: string;
    readonly stack: string;
    /** In registration order, the old halves of replacements after what replaced them. */
    readonly resources: readonly ResourceState[];
}

/** The plan's resources as goal states (the mock's outputs as they are), with the engine's URNs. */
export function goalsOf(plan: CapturedPlan): ResourceState[] {
    const byId = new Map(plan.resources.map(r => [r.id, r]));
    const urns = new Map<string, string>();
    const urn = (r: CapturedResource): string => {
        if (!urns.has(r.id)) {
            const parentTypes: string[] = [];
            for (let p = r.parent ? byId.get(r.parent) : undefined; p; p = p.parent ? byId.get(p.parent) : undefined) {
                parentTypes.unshift(p.type);
            }
            urns.set(r.id, urnOf(plan.stack, plan.project, { type: r.type, name: r.name, parentTypes }));
        }
        return urns.get(r.id)!;
    };
    const urnOfId = (id: string) => {
        const r = byId.get(id);
        if (!r) {
            throw new Error(`the plan refers to ${id}, which it does not list`);
        }
        return urn(r);
    };
    return plan.resources.map(r => {
        const options = r.options ?? {};
        const provider = r.provider
            ? urnOfId(r.provider)
            : r.custom && !isProviderType(r.type)
              ? defaultProviderUrn(plan.stack, plan.project, r.type)
              : undefined;
        return {
            urn: urn(r),
            type: r.type,
            name: r.name,
            custom: r.custom,
            ...(r.parent ? { parent: urnOfId(r.parent) } : {}),
            inputs: r.inputs,
            secretInputs: r.secretInputs,
            outputs: r.outputs,
            options: { ...options, ...(options.deletedWith ? { deletedWith: urnOfId(options.deletedWith) } : {}) },
            dependencies: r.dependsOn.filter(d => d !== r.provider).map(urnOfId),
            propertyDependencies: Object.fromEntries(
                Object.entries(r.propertyDependencies ?? {}).map(([k, ids]) => [k, ids.map(urnOfId)]),
            ),
            ...(provider ? { provider } : {}),
        };
    });
}

/**
 * Every URN a resource must wait for, or be deleted before: its dependencies, its parent, its
 * explicit provider and deletedWith (tools/lab/README.md, E8: the dependencies deletes are ordered by).
 */
export function edgesOf(r: ResourceState): string[] {
    return [
        ...new Set([
            ...r.dependencies,
            ...(r.parent ? [r.parent] : []),
            ...(r.provider ? [r.provider] : []),
            ...(r.options.deletedWith ? [r.options.deletedWith] : []),
        ]),
    ];
}
