/**
 * Runs every step of a captured plan once more, as `up`'s idempotence pass: every custom resource
 * once all it depends on is done, with a little parallelism, stopping at the first failure. Remote
 * commands run over real SSH exactly as the command provider sends them; PostgreSQL resources become
 * SQL.
 */
import { GENERATED_TYPES, RESOURCE_TYPES } from "../../../components/facts";
import { CapturedPlan, CapturedResource } from "../../offline";
import { PgConnection, RunResult, connectionOf, seconds } from "../machines";
import { applyPostgresResource, isPostgresObject } from "./pg";
import { ApplyOptions, StepFailed, StepReport, changeLines, planSecrets, redact, runRemote, targetOf } from "./steps";

/** Applies the plan's custom resources in dependency order; returns a report per step. */
export async function applyPlan(plan: CapturedPlan, opts: ApplyOptions): Promise<StepReport[]> {
    const secrets = planSecrets(plan);
    const steps = plan.resources.filter(r => r.custom);
    const ids = new Set(steps.map(r => r.id));
    const pending = new Map(steps.map(r => [r.id, new Set(r.dependsOn.filter(d => ids.has(d)))]));
    const unknown = steps.flatMap(r => r.dependsOn.filter(d => !ids.has(d)).map(d => `${r.name} -> ${d}`));
    if (unknown.length > 0) {
        throw new Error(`the plan has dependencies on resources it does not list: ${unknown.join(", ")}`);
    }
    const providers = new Map<string, PgConnection>();
    const reports: StepReport[] = [];
    const done = new Set<string>();
    const running = new Map<string, Promise<void>>();
    let failure: Error | undefined;
    let counter = 0;
    const total = steps.filter(r => !GENERATED_TYPES.has(r.type)).length;

    const execute = async (r: CapturedResource): Promise<void> => {
        const started = Date.now();
        let target = "-";
        let result: RunResult | undefined;
        if (r.type === RESOURCE_TYPES.command) {
            target = targetOf(r.inputs, opts.hostNames);
            result = await runRemote(r.name, r.inputs, String(r.inputs.create), opts);
        } else if (r.type === RESOURCE_TYPES.postgresqlProvider) {
            providers.set(r.id, connectionOf(r.inputs));
        } else if (isPostgresObject(r.type)) {
            const providerId = r.dependsOn.find(d => d.startsWith(`${RESOURCE_TYPES.postgresqlProvider}::`));
            const conn = providerId && providers.get(providerId);
            if (!conn) {
                throw new Error(`${r.name}: no PostgreSQL provider among its dependencies`);
            }
            target = `postgresql://${conn.host}:${conn.port}`;
            result = await applyPostgresResource(r.type, r.inputs, conn);
        } else if (!GENERATED_TYPES.has(r.type)) {
            throw new Error(`${r.name}: the lab does not know how to apply a ${r.type}`);
        }
        if (GENERATED_TYPES.has(r.type)) {
            return; // the capture's mock already generated the value
        }
        const report: StepReport = {
            resource: r,
            target,
            seconds: (Date.now() - started) / 1000,
            output: result ? redact(result.stdout + result.stderr, secrets) : "",
        };
        reports.push(report);
        counter++;
        const kind = r.type === RESOURCE_TYPES.command ? "" : ` [${r.type.split(":").pop()}]`;
        opts.log(
            `${opts.pass} ${String(counter).padStart(2)}/${total} ${r.name}${kind} @ ${target} ${seconds(report.seconds)}`,
        );
        for (const line of changeLines(report.output)) {
            opts.log(`    ${line}`);
        }
        if (result && result.code !== 0) {
            throw new StepFailed(report, `exit code ${result.code}`);
        }
    };

    while (done.size < steps.length && !failure) {
        const ready = steps.filter(
            r => !done.has(r.id) && !running.has(r.id) && [...pending.get(r.id)!].every(d => done.has(d)),
        );
        for (const r of ready.slice(0, Math.max(0, opts.jobs - running.size))) {
            running.set(
                r.id,
                execute(r)
                    .then(
                        () => {
                            done.add(r.id);
                        },
                        err => {
                            failure ??= err instanceof Error ? err : new Error(String(err));
                        },
                    )
                    .finally(() => running.delete(r.id)),
            );
        }
        if (running.size === 0) {
            if (!failure && done.size < steps.length) {
                throw new Error("the plan's dependencies form a cycle; nothing can run");
            }
            break;
        }
        await Promise.race(running.values());
    }
    // Let steps already under way finish, as the engine does, before reporting the failure.
    await Promise.all(running.values());
    if (failure) {
        throw failure;
    }
    return reports;
}
