/**
 * The order the engine applies a plan's steps in (tools/lab/README.md, "Engine facts" E8):
 *  - one unit per goal, started once every unit it depends on (dependencies, parent, provider,
 *    deletedWith) has finished: a create, an update, nothing for a same, the create half of a
 *    create-before-delete replacement, or a delete-before-replace chain (the dependents it must
 *    replace deleted first in reverse dependency order, then the old resource, then the new one);
 *  - after every unit has finished, all deletes (removed resources, old halves of replacements,
 *    old halves still pending from an earlier apply) in antichains: the engine levels the condemned
 *    resources by their direct dependencies among themselves and runs the levels in reverse, each
 *    to its end before the next.
 */
import { Step } from "./diff";
import { ResourceState, edgesOf } from "./state";

export type Action =
    /** `replaces`: the old half of a create-before-delete replacement, pending its delete from now on. */
    | { readonly kind: "create"; readonly goal: ResourceState; readonly replaces?: ResourceState }
    | { readonly kind: "update"; readonly old: ResourceState; readonly goal: ResourceState }
    | { readonly kind: "same"; readonly old: ResourceState; readonly goal: ResourceState }
    | { readonly kind: "delete"; readonly old: ResourceState };

export interface Unit {
    readonly urn: string;
    /** Run one after the other. */
    readonly actions: readonly Action[];
    /** URNs of the units that must finish first. */
    readonly after: readonly string[];
}

export interface Schedule {
    readonly units: readonly Unit[];
    /** Antichains of deletes, in the order they run. */
    readonly deletes: readonly (readonly Action[])[];
}

function unitOf(step: Step, goals: ReadonlySet<string>): { unit: Unit; condemned: ResourceState[] } {
    const goal = step.goal!;
    const after = edgesOf(goal).filter(u => goals.has(u) && u !== goal.urn);
    const unit = (actions: Action[]): Unit => ({ urn: goal.urn, actions, after });
    switch (step.op) {
        case "create":
            return { unit: unit([{ kind: "create", goal }]), condemned: [] };
        case "update":
            return { unit: unit([{ kind: "update", old: step.old!, goal }]), condemned: [] };
        case "same":
            return { unit: unit([{ kind: "same", old: step.old!, goal }]), condemned: [] };
        case "replace":
            if (typeof step.cause === "object") {
                // Its old resource went in the chain of the replacement it depends on.
                return { unit: unit([{ kind: "create", goal }]), condemned: [] };
            }
            if (step.deleteBeforeReplace) {
                const first = (step.deleteFirst ?? []).map(old => ({ kind: "delete" as const, old }));
                return {
                    unit: unit([...first, { kind: "delete", old: step.old! }, { kind: "create", goal }]),
                    condemned: [],
                };
            }
            return { unit: unit([{ kind: "create", goal, replaces: step.old! }]), condemned: [step.old!] };
        default:
            throw new Error(`a ${step.op} step has no unit of its own`);
    }
}

/** Levels the condemned resources as the engine's ScheduleDeletes does, and reverses them. */
export function deleteAntichains(condemned: readonly ResourceState[]): ResourceState[][] {
    const left = new Set(condemned);
    const levels: ResourceState[][] = [];
    while (left.size > 0) {
        const urns = new Set([...left].map(r => r.urn));
        const level = [...left].filter(r => !edgesOf(r).some(u => u !== r.urn && urns.has(u)));
        if (level.length === 0) {
            throw new Error(
                `the recorded dependencies of ${[...urns].join(", ")} form a cycle; nothing can be deleted`,
            );
        }
        level.forEach(r => left.delete(r));
        levels.push(level);
    }
    return levels.reverse();
}

export function scheduleOf(steps: readonly Step[]): Schedule {
    const goals = new Set(steps.filter(s => s.goal).map(s => s.urn));
    const units: Unit[] = [];
    const condemned: ResourceState[] = [];
    for (const step of steps) {
        if (step.op === "delete") {
            // A dependent of a delete-before-replace chain is deleted there, not at the end.
            if (typeof step.cause !== "object") {
                condemned.push(step.old!);
            }
            continue;
        }
        const { unit, condemned: old } = unitOf(step, goals);
        units.push(unit);
        condemned.push(...old);
    }
    return {
        units,
        deletes: deleteAntichains(condemned).map(level => level.map(old => ({ kind: "delete" as const, old }))),
    };
}
