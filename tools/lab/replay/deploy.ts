/**
 * One `pulumi up` on the lab, from plan to record: the steps scheduled as the engine orders them,
 * run on the lab's hosts and database, the per-URN state written after every finished action. `up`
 * deploys through it from an empty state (every resource a create), `apply` from the recorded one.
 */
import { CapturedPlan } from "../../offline";
import { LabState, StateFile } from "../machines";
import { RunResult, runSchedule } from "./apply";
import { Step } from "./diff";
import { LabExecutor, reachesTheWorld } from "./executor";
import { scheduleOf } from "./schedule";
import { ResourceState, StackState } from "./state";
import { ApplyOptions, planSecrets } from "./steps";

/** SSH and parallelism as the replay takes them (`jobs`: units or deletes under way at once at most). */
export type DeployOptions = Omit<ApplyOptions, "pass">;

export interface Deployed {
    readonly result: RunResult;
    readonly executor: LabExecutor;
    readonly seconds: number;
}

/** An empty record of the plan's stack: what `up` deploys from. */
export function emptyStack(plan: Pick<CapturedPlan, "project" | "stack">): StackState {
    return { version: 1, project: plan.project, stack: plan.stack, resources: [] };
}

/**
 * Runs the steps and records the state in the lab's state file as it goes; throws the first
 * failure (host, step, output with secrets redacted) once what was under way has finished.
 */
export async function runSteps(
    state: LabState,
    file: StateFile,
    goals: readonly ResourceState[],
    steps: readonly Step[],
    opts: DeployOptions,
): Promise<Deployed> {
    const started = Date.now();
    const prior = state.stack;
    if (!prior) {
        throw new Error("the lab's state has no per-URN record to apply against");
    }
    const schedule = scheduleOf(steps);
    const goal = new Map(goals.map(g => [g.urn, g]));
    const recorded = new Map(prior.resources.map(r => [r.urn, r]));
    const executor = new LabExecutor({
        ...opts,
        secrets: planSecrets({ resources: [...goals, ...prior.resources] }),
        // A provider is used as configured now: its goal, or its record once the plan no longer has it (README E5).
        provider: urn => (goal.get(urn) ?? recorded.get(urn))?.inputs,
        total: [...schedule.units.flatMap(u => u.actions), ...schedule.deletes.flat()].filter(reachesTheWorld).length,
    });
    const result = await runSchedule(
        prior,
        prior,
        goals.map(g => g.urn),
        schedule,
        executor,
        {
            jobs: opts.jobs,
            persist: s => {
                state.stack = s;
                file.write(state);
            },
        },
    );
    if (result.failure) {
        throw Object.assign(result.failure, {
            message:
                `${result.failure.message}\nThe lab's state records exactly what completed (${result.done.length} action(s)); ` +
                "fix the cause and run `npm run lab -- apply` again to resume.",
        });
    }
    return { result, executor, seconds: (Date.now() - started) / 1000 };
}
