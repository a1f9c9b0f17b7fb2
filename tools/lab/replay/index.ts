/**
 * `npm run lab -- apply [--config FILE] [--pattern NAME] [--replace NAME]... [--preview]`: applies a
 * changed config to the running lab exactly as `pulumi up` (with `--config-file FILE`, and
 * `--replace URN`) would apply it to a stack: the program is planned against the recorded state
 * (tools/lab/replay/state.ts), each resource diffed by its provider's rules, the summary printed as
 * `pulumi preview` prints it, then the lab's machines follow the config and the steps run in the
 * engine's order, the state recorded after each. See tools/lab/README.md, "apply".
 *
 * The layer's pieces that `up`, the checks and the drills use are exported from here too.
 */
import * as path from "path";
import { readEnvironment } from "../../offline";
import {
    Log,
    StateFile,
    cachePaths,
    ensureHostKeys,
    ensureKeyPair,
    managedEndpoints,
    provisionManagedDatabase,
    ensureProviderCa,
    requireMachine,
    topologyOf,
    withLock,
} from "../machines";
import { runSteps } from "./deploy";
import { Step } from "./diff";
import { deployedFacts } from "./facts";
import { bootNew, machineChanges, removeGone, requireRepositoryHolds } from "./machines";
import { planLab, priorOutputs, resolveReplaceTargets, stepsFor } from "./plan";
import { Summary, renderSummary, summaryOf, unchanged } from "./summary";

export interface ApplyLabOptions {
    /** The changed stack settings file (default: the one the lab runs). */
    readonly configFile?: string;
    /** Passed to the stack program as zabbix-ha:pattern (default: what `up` was given). */
    readonly pattern?: string;
    /** Resources to replace whatever their diff says, by URN or name. */
    readonly replace?: readonly string[];
    /** Print the plan and stop. */
    readonly preview?: boolean;
    readonly jobs?: number;
    readonly cacheRoot?: string;
    readonly log?: Log;
    /** The caller already holds the lab's lock (a drill applying a change). */
    readonly locked?: boolean;
}

export interface ApplyLabResult {
    readonly steps: readonly Step[];
    readonly summary: Summary;
    /** Whether the steps ran (not a preview). */
    readonly applied: boolean;
    readonly elapsedSeconds: number;
}

export async function applyLab(options: ApplyLabOptions = {}): Promise<ApplyLabResult> {
    const started = Date.now();
    const log = options.log ?? (line => console.log(line));
    requireMachine();
    const paths = cachePaths(options.cacheRoot);
    const locked = <T>(body: () => Promise<T>) => (options.locked ? body() : withLock(paths, body));
    return locked(async () => {
        const file = new StateFile(paths.state);
        const state = file.read();
        if (!state?.stack || !state.images) {
            throw new Error(
                state
                    ? "the running lab was made by a version of `up` that kept no per-URN state: run `npm run lab -- up` again"
                    : `no lab recorded in ${paths.state}: run \`npm run lab -- up\` first`,
            );
        }
        const recorded = state.stack;
        const configFile = path.resolve(options.configFile ?? state.configFile);
        const topo = topologyOf(readEnvironment(configFile));
        const key = await ensureKeyPair(paths.sshKey);
        const pattern = options.pattern ?? state.plannedWith?.pattern;
        const replace = resolveReplaceTargets(recorded, options.replace ?? []);

        let phase = Date.now();
        const hostKeys = await ensureHostKeys(
            paths.hostKeys,
            topo.hosts.map(h => h.name),
        );
        const providerCa = ensureProviderCa(paths.providerCa);
        const plan = await planLab(
            configFile,
            key.privateKey,
            hostKeys,
            pattern,
            state.plannedWith?.managedAdminPassword,
            {
                providerCaCertPem: providerCa.certPem,
                stack: recorded.stack,
                prior: priorOutputs(recorded, new Set(replace)),
            },
        );
        const { goals, steps } = stepsFor(recorded, plan, replace);
        const summary = summaryOf(steps);
        const where = path.relative(process.cwd(), configFile) || configFile;
        for (const line of renderSummary(
            steps,
            `Previewing update (${recorded.stack}) of the running lab with ${where}${pattern ? ` (pattern ${pattern})` : ""}:`,
        )) {
            log(line);
        }
        log(`plan: ${((Date.now() - phase) / 1000).toFixed(1)} s`);
        if (options.preview) {
            return { steps, summary, applied: false, elapsedSeconds: (Date.now() - started) / 1000 };
        }

        const machines = machineChanges(state, topo);
        requireRepositoryHolds(state.images, plan, topo);
        phase = Date.now();
        await bootNew(
            machines,
            topo,
            file,
            state,
            {
                images: state.images,
                key: key.privateKeyFile,
                publicKey: key.publicKey,
                hostKeys: paths.hostKeys,
                runRoot: paths.run,
                logs: paths.logs,
            },
            log,
        );
        for (const endpoint of managedEndpoints(plan, topo).filter(e =>
            machines.newHosts.some(h => h.name === e.host.name),
        )) {
            await provisionManagedDatabase(
                endpoint,
                state.plannedWith?.managedAdminPassword ?? "",
                key.privateKeyFile,
                providerCa,
                log,
            );
        }

        // A same-only plan runs nothing but still records the new options and dependencies, as the engine does.
        // The recorded hosts keep their names in the step lines (a removed host's deletes run there).
        const hostNames = new Map([
            ...state.hosts.map(h => [h.address, h.name] as const),
            ...topo.hosts.map(h => [h.address, h.name] as const),
        ]);
        const deployed = await runSteps(state, file, goals, steps, {
            keyFile: key.privateKeyFile,
            privateKey: key.privateKey,
            hostNames,
            jobs: options.jobs ?? 3,
            log,
        });
        if (!unchanged(summary)) {
            log(
                `apply: ${deployed.result.done.filter(a => a.kind !== "same").length} action(s) in ${deployed.seconds.toFixed(1)} s`,
            );
        }
        await removeGone(machines, topo, file, state, log);
        state.configFile = configFile;
        state.deployed = { at: new Date().toISOString(), pattern: pattern ?? "(from config)" };
        state.facts = deployedFacts(plan);
        file.write(state);
        const elapsed = (Date.now() - started) / 1000;
        log(
            `figures: apply elapsed ${elapsed.toFixed(1)} s (machines and steps ${((Date.now() - phase) / 1000).toFixed(1)} s)`,
        );
        return { steps, summary, applied: true, elapsedSeconds: elapsed };
    });
}

export { emptyStack, runSteps } from "./deploy";
export { InstanceDatabase, Login, deployedFacts, instanceDatabases, stackOutputs, superAdminPassword } from "./facts";
export { planLab, priorOutputs, stepsFor } from "./plan";
export { applyPlan } from "./rerun";
export { ResourceState, StackState, goalsOf } from "./state";
export { StepReport } from "./steps";
export { renderSummary, summaryOf, unchanged } from "./summary";
