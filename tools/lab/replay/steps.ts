/**
 * What every way of running a plan's steps shares (`up`'s idempotence pass in rerun.ts, the
 * engine's loop in apply.ts and executor.ts): a remote Command run over real SSH exactly as the
 * command provider sends it, the plan's secrets and their redaction, and the report of a step.
 */
import { RESOURCE_TYPES } from "../../../components/facts";
import { CapturedResource } from "../../offline";
import { RunResult, indent, isDialFailure, seconds, sleep, sshRun } from "../machines";

export interface StepReport {
    readonly resource: Pick<CapturedResource, "name" | "type">;
    /** Host name (commands) or endpoint (SQL) the step ran against. */
    readonly target: string;
    readonly seconds: number;
    /** stdout and stderr, secrets redacted. */
    readonly output: string;
}

export class StepFailed extends Error {
    constructor(
        public readonly report: StepReport,
        reason: string,
    ) {
        super(
            `step ${report.resource.name} failed on ${report.target} after ${seconds(report.seconds)}: ${reason}\n` +
                `output (stdout and stderr):\n${indent(report.output || "(none)")}`,
        );
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
export function planSecrets(plan: {
    readonly resources: readonly Pick<CapturedResource, "type" | "inputs" | "secretInputs" | "outputs">[];
}): string[] {
    const values = new Set<string>();
    const add = (v: unknown) => {
        if (typeof v === "string") {
            [v, ...v.split("\n")]
                .map(s => s.trim())
                .filter(s => s.length >= 8)
                .forEach(s => values.add(s));
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
        if (r.type === RESOURCE_TYPES.randomPassword) {
            add(r.outputs.result);
        }
        if (r.type === RESOURCE_TYPES.randomBytes) {
            add(r.outputs.hex);
            add(r.outputs.base64);
        }
        if (r.type === RESOURCE_TYPES.tlsPrivateKey) {
            add(r.outputs.privateKeyPem);
            add(r.outputs.privateKeyPemPkcs8);
        }
    }
    return [...values].sort((a, b) => b.length - a.length);
}

export function redact(text: string, secrets: readonly string[]): string {
    return secrets.reduce((t, s) => t.split(s).join("[secret]"), text);
}

/** Lines of step output worth showing as progress: what changed. None carries a secret. */
export function changeLines(output: string): string[] {
    return output
        .split("\n")
        .filter(l =>
            /^(updated |installing:|loading the Zabbix schema|copying the primary|promoting|a primary runs here)/.test(
                l,
            ),
        );
}

/** A remote Command's connection input. */
export interface Connection {
    host: string;
    port: number;
    user: string;
    privateKey?: string;
    /** The host's pinned key: ssh accepts only it, as the provider does. */
    hostKey?: string;
    dialErrorLimit?: number;
}

/** The host a command runs on, for step lines: its lab name and address. */
export function targetOf(inputs: Record<string, unknown>, hostNames: ReadonlyMap<string, string>): string {
    const host = (inputs.connection as Connection).host;
    return `${hostNames.get(host) ?? "?"} (${host})`;
}

/**
 * Runs one of a Command's texts (create, update or delete) the way the provider does: over its
 * connection, with its stdin; dialing is retried, the command never.
 */
export async function runRemote(
    name: string,
    inputs: Record<string, unknown>,
    text: string,
    opts: Pick<ApplyOptions, "keyFile" | "privateKey">,
): Promise<RunResult> {
    const conn = inputs.connection as Connection;
    if (conn.privateKey !== undefined && conn.privateKey.trim() !== opts.privateKey.trim()) {
        throw new Error(
            `${name}: the plan's SSH key is not the lab's key; plan with the secret zabbix-ha:sshPrivateKey`,
        );
    }
    const dialLimit = Number(conn.dialErrorLimit ?? 10);
    for (let attempt = 1; ; attempt++) {
        const result = await sshRun({
            host: conn.host,
            port: Number(conn.port ?? 22),
            user: conn.user ?? "root",
            key: opts.keyFile,
            hostKey: conn.hostKey,
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
