/**
 * Runs every step of a captured plan once more, as `up`'s idempotence pass: every custom resource
 * once all it depends on is done, with a little parallelism, stopping at the first failure. Remote
 * commands run over real SSH exactly as the command provider sends them; PostgreSQL resources become
 * SQL. Also the pieces the change replay (replay/) shares: the SSH runner, secrets, step reports.
 */
import { CapturedPlan, CapturedResource } from "../offline";
import { PgConnection, POSTGRES_TYPES, applyPostgresResource, connectionOf } from "./pg";
import { RunResult, indent, seconds, sleep } from "./run";
import { isDialFailure, sshRun } from "./ssh";

export const COMMAND = "command:remote:Command";
export const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";
export const PG_PROVIDER = "pulumi:providers:postgresql";

export interface StepReport {
    readonly resource: Pick<CapturedResource, "name" | "type">;
    /** Host name (commands) or endpoint (SQL) the step ran against. */
    readonly target: string;
    readonly seconds: number;
    /** stdout and stderr, secrets redacted. */
    readonly output: string;
}

export class StepFailed extends Error {
    constructor(public readonly report: StepReport, reason: string) {
        super(`step ${report.resource.name} failed on ${report.target} after ${seconds(report.seconds)}: ${reason}\n`
            + `output (stdout and stderr):\n${indent(report.output || "(none)")}`);
        this.name = "StepFailed";
    }
}

export interface ApplyOptions {
    /** Private key file the lab authorized on every host. */
    readonly keyFile: string;
    /** The same key's text: the plan's connections must carry it. */
    readonly privateKey: string;
    /** Host names by address, for the step lines. */
    readonly hostNames: ReadonlyMap<string, string>;
    /** Steps run at once at most (independent steps only). */
    readonly jobs: number;
    readonly log: (line: string) => void;
    /** Label of the pass in the log ("deploy", "replay"). */
    readonly pass: string;
}

/**
 * Every secret value in the plan (generated passwords, the SSH key, each line of a step's stdin),
 * so that no output the lab prints can carry one. Only strings that are secrets themselves count:
 * a connection is secret as a whole because of its key, but its address is not.
 */
export function planSecrets(plan: { readonly resources: readonly Pick<CapturedResource, "type" | "inputs" | "secretInputs" | "outputs">[] }): string[] {
    const values = new Set<string>();
    const add = (v: unknown) => {
        if (typeof v === "string") {
            [v, ...v.split("\n")].map(s => s.trim()).filter(s => s.length >= 8).forEach(s => values.add(s));
        }
    };
    for (const r of plan.resources) {
        for (const key of r.secretInputs) {
            const value = r.inputs[key];
            if (value && typeof value === "object") {
                const record = value as Record<string, unknown>;
                add(record.privateKey);
                add(record.password);
            } else {
                add(value);
            }
        }
        if (r.type === RANDOM_PASSWORD) {
            add(r.outputs.result);
        }
    }
    return [...values].sort((a, b) => b.length - a.length);
}

export function redact(text: string, secrets: readonly string[]): string {
    return secrets.reduce((t, s) => t.split(s).join("[secret]"), text);
}

/** Lines of step output worth showing as progress: what changed. None carries a secret. */
export function changeLines(output: string): string[] {
    return output.split("\n").filter(l => /^(updated |installing:|loading the Zabbix schema|copying the primary|promoting|a primary runs here)/.test(l));
}

/** A remote Command's connection input. */
export interface Connection { host: string; port: number; user: string; privateKey?: string; dialErrorLimit?: number }

/** The host a command runs on, for step lines: its lab name and address. */
export function targetOf(inputs: Record<string, unknown>, hostNames: ReadonlyMap<string, string>): string {
    const host = (inputs.connection as Connection).host;
    return `${hostNames.get(host) ?? "?"} (${host})`;
}

/**
 * Runs one of a Command's texts (create, update or delete) the way the provider does: over its
 * connection, with its stdin; dialing is retried, the command never.
 */
export async function runRemote(name: string, inputs: Record<string, unknown>, text: string, opts: Pick<ApplyOptions, "keyFile" | "privateKey">): Promise<RunResult> {
    const conn = inputs.connection as Connection;
    if (conn.privateKey !== undefined && conn.privateKey.trim() !== opts.privateKey.trim()) {
        throw new Error(`${name}: the plan's SSH key is not the lab's key; plan with the override zabbix-ha:sshPrivateKey`);
    }
    const dialLimit = Number(conn.dialErrorLimit ?? 10);
    for (let attempt = 1; ; attempt++) {
        const result = await sshRun({
            host: conn.host, port: Number(conn.port ?? 22), user: conn.user ?? "root", key: opts.keyFile,
            command: text,
            input: typeof inputs.stdin === "string" ? inputs.stdin : undefined,
            timeoutMs: 20 * 60_000,
        });
        // Like the provider: retry dialing, never the command itself.
        if (!isDialFailure(result) || attempt >= dialLimit) {
            return result;
        }
        await sleep(1000);
    }
}

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
    const total = steps.filter(r => r.type !== RANDOM_PASSWORD).length;

    const execute = async (r: CapturedResource): Promise<void> => {
        const started = Date.now();
        let target = "-";
        let result: RunResult | undefined;
        if (r.type === COMMAND) {
            target = targetOf(r.inputs, opts.hostNames);
            result = await runRemote(r.name, r.inputs, String(r.inputs.create), opts);
        } else if (r.type === PG_PROVIDER) {
            providers.set(r.id, connectionOf(r.inputs));
        } else if ((POSTGRES_TYPES as readonly string[]).includes(r.type)) {
            const providerId = r.dependsOn.find(d => d.startsWith(`${PG_PROVIDER}::`));
            const conn = providerId && providers.get(providerId);
            if (!conn) {
                throw new Error(`${r.name}: no PostgreSQL provider among its dependencies`);
            }
            target = `postgresql://${conn.host}:${conn.port}`;
            result = await applyPostgresResource(r.type, r.inputs, conn);
        } else if (r.type !== RANDOM_PASSWORD) {
            throw new Error(`${r.name}: the lab does not know how to apply a ${r.type}`);
        }
        if (r.type === RANDOM_PASSWORD) {
            return; // the capture's mock already generated the value
        }
        const report: StepReport = {
            resource: r, target, seconds: (Date.now() - started) / 1000,
            output: result ? redact(result.stdout + result.stderr, secrets) : "",
        };
        reports.push(report);
        counter++;
        const kind = r.type === COMMAND ? "" : ` [${r.type.split(":").pop()}]`;
        opts.log(`${opts.pass} ${String(counter).padStart(2)}/${total} ${r.name}${kind} @ ${target} ${seconds(report.seconds)}`);
        for (const line of changeLines(report.output)) {
            opts.log(`    ${line}`);
        }
        if (result && result.code !== 0) {
            throw new StepFailed(report, `exit code ${result.code}`);
        }
    };

    while (done.size < steps.length && !failure) {
        const ready = steps.filter(r => !done.has(r.id) && !running.has(r.id) && [...pending.get(r.id)!].every(d => done.has(d)));
        for (const r of ready.slice(0, Math.max(0, opts.jobs - running.size))) {
            running.set(r.id, execute(r).then(
                () => { done.add(r.id); },
                err => { failure ??= err instanceof Error ? err : new Error(String(err)); },
            ).finally(() => running.delete(r.id)));
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
