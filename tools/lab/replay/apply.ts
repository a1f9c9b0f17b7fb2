/**
 * Runs a schedule as `pulumi up` does (tools/lab/README.md, "Engine facts" E8, E9): units once what they
 * depend on has finished, a few at a time; then the delete antichains, each to its end. The first
 * failure stops the scheduling of anything new; what is under way finishes. The state is recorded
 * after every finished action, exactly as far as the apply got, so the next apply resumes from it:
 * a failed create leaves nothing, a failed update the old record, a create-before-delete old half
 * stays pending until its delete runs.
 */
import { Action, Schedule } from "./schedule";
import { ResourceState, StackState } from "./state";

/** What actually touches the world: one provider operation on one custom resource. */
export interface ResourceExecutor {
    /** Makes the resource; resolves to its outputs. */
    create(goal: ResourceState): Promise<Record<string, unknown>>;
    /** Changes it in place to the goal; resolves to its new outputs. */
    update(old: ResourceState, goal: ResourceState): Promise<Record<string, unknown>>;
    /** Removes it, as recorded. */
    delete(old: ResourceState): Promise<void>;
}

export interface RunOptions {
    /** Units or deletes under way at once at most. */
    readonly jobs: number;
    /** Called with the state after every finished action (and once at the end). */
    readonly persist: (state: StackState) => void;
}

export interface RunResult {
    readonly state: StackState;
    /** Actions that finished, in the order they did. */
    readonly done: readonly Action[];
    /** The first failure, when there was one: nothing was scheduled after it. */
    readonly failure?: Error;
}

/** The state as an apply leaves it, one record at a time. */
class Recorder {
    private readonly entries: { key: ResourceState; value: ResourceState }[];

    constructor(
        private readonly base: Pick<StackState, "project" | "stack">,
        prior: readonly ResourceState[],
        private readonly order: ReadonlyMap<string, number>,
    ) {
        this.entries = prior.map(r => ({ key: r, value: r }));
    }

    private at(key: ResourceState): number {
        const i = this.entries.findIndex(e => e.key === key);
        if (i < 0) {
            throw new Error(`${key.urn}: not in the recorded state`);
        }
        return i;
    }

    record(action: Action, outputs?: Record<string, unknown>): void {
        switch (action.kind) {
            case "create":
                if (action.replaces) {
                    const i = this.at(action.replaces);
                    this.entries[i] = {
                        key: action.replaces,
                        value: { ...this.entries[i].value, pendingDelete: true },
                    };
                }
                this.entries.push({
                    key: action.goal,
                    value: { ...action.goal, outputs: outputs ?? action.goal.outputs },
                });
                break;
            case "update":
                this.entries[this.at(action.old)] = {
                    key: action.old,
                    value: { ...action.goal, outputs: outputs ?? action.goal.outputs },
                };
                break;
            case "same":
                // The new options and dependencies are recorded; the outputs stay what the last operation returned.
                this.entries[this.at(action.old)] = {
                    key: action.old,
                    value: { ...action.goal, outputs: action.old.outputs },
                };
                break;
            case "delete":
                this.entries.splice(this.at(action.old), 1);
                break;
        }
    }

    snapshot(): StackState {
        const rank = (r: ResourceState) => this.order.get(r.urn) ?? Number.MAX_SAFE_INTEGER;
        // Registration order; an old half right after what replaced it; what the plan no longer has at the end.
        const resources = this.entries
            .map((e, i) => ({ r: e.value, i }))
            .sort(
                (a, b) =>
                    rank(a.r) - rank(b.r) ||
                    Number(a.r.pendingDelete ?? false) - Number(b.r.pendingDelete ?? false) ||
                    a.i - b.i,
            )
            .map(e => e.r);
        return { version: 1, ...this.base, resources };
    }
}

/** Components and retained resources need no provider call; everything else goes to the executor. */
async function perform(action: Action, executor: ResourceExecutor): Promise<Record<string, unknown> | undefined> {
    switch (action.kind) {
        case "same":
            return undefined;
        case "create":
            return action.goal.custom ? executor.create(action.goal) : action.goal.outputs;
        case "update":
            return action.goal.custom ? executor.update(action.old, action.goal) : action.goal.outputs;
        case "delete":
            if (action.old.custom && !action.old.options.retainOnDelete) {
                await executor.delete(action.old);
            }
            return undefined;
    }
}

/** Whether an action calls no provider (a same, a component, a retained delete): it takes no job. */
function instant(action: Action): boolean {
    const r = action.kind === "delete" ? action.old : action.goal;
    return action.kind === "same" || !r.custom || (action.kind === "delete" && r.options.retainOnDelete === true);
}

export async function runSchedule(
    prior: StackState | undefined,
    base: Pick<StackState, "project" | "stack">,
    goalOrder: readonly string[],
    schedule: Schedule,
    executor: ResourceExecutor,
    options: RunOptions,
): Promise<RunResult> {
    const recorder = new Recorder(base, prior?.resources ?? [], new Map(goalOrder.map((u, i) => [u, i])));
    const done: Action[] = [];
    let failure: Error | undefined;
    const fail = (err: unknown) => {
        failure ??= err instanceof Error ? err : new Error(String(err));
    };
    const finish = async (action: Action) => {
        const outputs = await perform(action, executor);
        recorder.record(action, outputs);
        done.push(action);
        options.persist(recorder.snapshot());
    };
    const runUnit = async (actions: readonly Action[]) => {
        for (const action of actions) {
            await finish(action);
        }
    };

    // Units in dependency order.
    const finished = new Set<string>();
    const running = new Map<string, Promise<void>>();
    const units = [...schedule.units];
    const known = new Set(units.map(u => u.urn));
    while (!failure && finished.size < units.length) {
        let progressed = false;
        for (const unit of units) {
            if (
                failure ||
                finished.has(unit.urn) ||
                running.has(unit.urn) ||
                !unit.after.every(u => finished.has(u) || !known.has(u))
            ) {
                continue;
            }
            if (unit.actions.every(instant)) {
                await runUnit(unit.actions).catch(fail);
                finished.add(unit.urn);
                progressed = true;
            } else if (running.size < options.jobs) {
                running.set(
                    unit.urn,
                    runUnit(unit.actions)
                        .then(() => {
                            finished.add(unit.urn);
                        }, fail)
                        .finally(() => running.delete(unit.urn)),
                );
            }
        }
        if (running.size > 0) {
            await Promise.race(running.values());
        } else if (!progressed && !failure && finished.size < units.length) {
            throw new Error("the plan's dependencies form a cycle; nothing can run");
        }
    }
    // What is under way finishes, as in the engine, before the failure is reported.
    await Promise.all(running.values());

    // Then every delete, antichain by antichain.
    for (const level of failure ? [] : schedule.deletes) {
        const queue = [...level];
        const workers = Array.from({ length: Math.min(options.jobs, queue.length) }, async () => {
            for (let action = queue.shift(); action && !failure; action = queue.shift()) {
                await finish(action).catch(fail);
            }
        });
        await Promise.all(workers);
        if (failure) {
            break;
        }
    }
    const state = recorder.snapshot();
    options.persist(state);
    return { state, done, ...(failure ? { failure } : {}) };
}
