/**
 * Shared fixtures for the engine-free tests: a valid raw configuration to start from, and
 * helpers that plan it through the same offline capture the preview and the lab use.
 */
import * as path from "path";
import { RawStackConfig } from "../../components/config";
import { CapturedPlan, CapturedResource, capturePlan, ofType } from "../../tools/offline/capture";
import { readEnvironment, toEngineConfig } from "../../tools/offline/environment";
import { planEnvironment } from "../../tools/offline/stack";
import { runStack } from "../../stacks/program";

export const ROOT = path.resolve(__dirname, "../..");
export const COMMAND = "command:remote:Command";
export const TEST_SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-key-material-not-real\n-----END OPENSSH PRIVATE KEY-----";

/** Two sites with one all-roles host each: the smallest valid pattern-5 config. */
export function twoSiteConfig(): Record<string, any> {
    return {
        zabbix: { version: "6.0", packageSource: "distribution" },
        failoverDelay: "10s",
        db: { primarySite: "east", adminNetwork: "198.18.100.0/24" },
        sites: [
            { name: "east", network: "198.18.1.0/24", hosts: [{ name: "east-1", address: "198.18.1.10", roles: ["db", "zabbix-server", "frontend", "lb"] }] },
            { name: "west", network: "198.18.2.0/24", hosts: [{ name: "west-1", address: "198.18.2.10", roles: ["db", "zabbix-server", "frontend", "lb"] }] },
        ],
    };
}

/** Plans a raw config (as a stack file's `config:` would hold it) through the real stack program. */
export async function planConfig(raw: RawStackConfig, sshKey: string | null = TEST_SSH_KEY): Promise<CapturedPlan> {
    const { config, secretKeys } = toEngineConfig(raw as Record<string, unknown>);
    if (sshKey !== null) {
        config["zabbix-ha:sshPrivateKey"] = sshKey;
        secretKeys.push("zabbix-ha:sshPrivateKey");
    }
    return capturePlan(() => runStack(), { config, secretKeys, stack: "test" });
}

/**
 * Plans one of the repository's example environments with a test SSH key; `db` replaces keys of its
 * db section (the rest of the file as it is).
 */
export async function planExample(env: "dev" | "prod", db?: Record<string, unknown>): Promise<CapturedPlan> {
    const file = readEnvironment(path.join(ROOT, `Pulumi.${env}.yaml`));
    const overrides: Record<string, string> = { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY };
    if (db) {
        const merged: Record<string, unknown> = { ...JSON.parse(file.config["zabbix-ha:db"] ?? "{}"), ...db };
        Object.keys(merged).filter(k => merged[k] === undefined).forEach(k => delete merged[k]);
        overrides["zabbix-ha:db"] = JSON.stringify(merged);
    }
    return planEnvironment(file, { overrides });
}

/** The db settings of a manual DB failover (the default), for tests of that path on an example environment. */
export const MANUAL_DB = { failover: "manual", replication: "async", patroniRepository: undefined };

export function commands(plan: CapturedPlan): CapturedResource[] {
    return ofType(plan, COMMAND);
}

/** The address a remote command runs on. */
export function target(resource: CapturedResource): string {
    return (resource.inputs.connection as { host: string }).host;
}

export function byName(plan: CapturedPlan, name: string): CapturedResource {
    const found = plan.resources.find(r => r.name === name);
    if (!found) {
        throw new Error(`no resource named ${name}; have ${plan.resources.map(r => r.name).join(", ")}`);
    }
    return found;
}

/** Unwraps `sh -c '<script>'` (or its sudo form) back into the script. */
export function scriptOf(resource: CapturedResource): string {
    const create = String(resource.inputs.create);
    const match = /^(?:sudo -n )?sh -c '([\s\S]*)'$/.exec(create);
    if (!match) {
        throw new Error(`${resource.name}: create is not an sh -c command`);
    }
    return match[1].replace(/'\\''/g, "'");
}
