/**
 * Shared fixtures for the engine-free tests: a valid raw configuration to start from, and
 * helpers that plan it through the same offline capture the preview and the lab use.
 */
import { readFileSync } from "fs";
import * as path from "path";
import {
    ConfigError,
    RawStackConfig,
    SET_AS_SECRET,
    ValidationOptions,
    validateStackConfig,
} from "../../components/config";
import { RESOURCE_TYPES } from "../../components/facts";
import { CapturedPlan, CapturedResource, capturePlan, ofType } from "../../tools/offline/capture";
import { EnvironmentConfig, readEnvironment, toEngineConfig } from "../../tools/offline/environment";
import { planEnvironment } from "../../tools/offline/stack";
import { tlsOutputs } from "../../tools/offline/tlsMock";
import { runStack } from "../../stacks/program";

export const ROOT = path.resolve(__dirname, "../..");
export const COMMAND = RESOURCE_TYPES.command;
export const TEST_SSH_KEY =
    "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-key-material-not-real\n-----END OPENSSH PRIVATE KEY-----";

/** A well-formed zabbix.releasePackageSha256 for configs with the vendor source (the SHA-256 of no bytes). */
/** A CA certificate as a managed database's provider hands it out (cloud.database.caCertificate). */
export const MANAGED_DB_CA = readFileSync(
    path.join(ROOT, "test", "support", "certificates", "managed-db-ca.crt"),
    "utf8",
);
export const RELEASE_PACKAGE_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Two sites with one all-roles host each: the smallest valid pattern-5 config. */
export function twoSiteConfig(): Record<string, any> {
    return {
        zabbix: { version: "6.0", packageSource: "distribution" },
        failoverDelay: "10s",
        db: { primarySite: "east", adminNetwork: "198.18.100.0/24" },
        sites: [
            {
                name: "east",
                network: "198.18.1.0/24",
                hosts: [{ name: "east-1", address: "198.18.1.10", roles: ["db", "zabbix-server", "frontend", "lb"] }],
            },
            {
                name: "west",
                network: "198.18.2.0/24",
                hosts: [{ name: "west-1", address: "198.18.2.10", roles: ["db", "zabbix-server", "frontend", "lb"] }],
            },
        ],
    };
}

/** Validation as pattern 5 asks it: two sites, every service role, a self-run database; the SSH key set as a secret. */
export const HA: ValidationOptions = {
    secrets: { sshPrivateKey: SET_AS_SECRET },
    requirements: { minSites: 2, requiredRoles: ["db", "zabbix-server", "frontend", "lb"], selfRunDatabase: true },
};

/** The problems validation finds in a raw config, as "path: message" lines (none when it passes). */
export function configProblems(raw: RawStackConfig, options: ValidationOptions): string[] {
    try {
        validateStackConfig(raw, options);
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems.map(p => `${p.path}: ${p.message}`);
    }
    return [];
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
 * Pulumi.prod.yaml's DB as it was before prod chose Patroni (async replication, failover by changing
 * db.primarySite): the tests of that path's steps (stand down, promote, follow, a slot per replica)
 * plan prod's sites and hosts with it.
 */
export const MANUAL_DB_FAILOVER = {
    "zabbix-ha:db": JSON.stringify({ primarySite: "tokyo", replication: "async", adminNetwork: "198.18.100.0/24" }),
};

/** One of the repository's example environments, with config values overridden. */
export function exampleEnvironment(env: "dev" | "prod", overrides: Record<string, string> = {}): EnvironmentConfig {
    const file = readEnvironment(path.join(ROOT, `Pulumi.${env}.yaml`));
    return { ...file, config: { ...file.config, ...overrides } };
}

/** Plans one of the repository's example environments with a test SSH key. */
export async function planExample(env: "dev" | "prod", overrides: Record<string, string> = {}): Promise<CapturedPlan> {
    return planEnvironment(exampleEnvironment(env, overrides), {
        secrets: { "zabbix-ha:sshPrivateKey": TEST_SSH_KEY },
    });
}

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
export function scriptOf(resource: CapturedResource, operation: "create" | "delete" = "create"): string {
    const text = String(resource.inputs[operation]);
    const match = /^(?:sudo -n )?sh -c '([\s\S]*)'$/.exec(text);
    if (!match) {
        throw new Error(`${resource.name}: ${operation} is not an sh -c command`);
    }
    return match[1].replace(/'\\''/g, "'");
}

/** A file a step installs with zha_put_file, as the plan renders it. */
export interface PlannedFile {
    /** The step (resource name) that installs it. */
    readonly step: string;
    /** The host it goes to. */
    readonly host: string;
    readonly path: string;
    /** Octal, as chmod takes it. */
    readonly mode: string;
    /** "user:group". */
    readonly owner: string;
    /** The text: a secret's file holds its template, with the shell variables the step expands. */
    readonly content: string;
    /** Whether the step's here-document expands variables (a secret's file). */
    readonly template: boolean;
}

/**
 * Every file the plan's steps install, read back from their scripts' here-documents (see
 * `putFile`/`putSecretFile` in components/shell): what a host would hold after `pulumi up`.
 */
export function plannedFiles(plan: CapturedPlan): PlannedFile[] {
    return commands(plan).flatMap(resource =>
        [
            ...scriptOf(resource).matchAll(
                /^zha_put_file '([^']+)' (\d+) (\S+) <<('?)ZHA_EOF\4\n([\s\S]*?)^ZHA_EOF$/gm,
            ),
        ].map(([, file, mode, owner, quote, body]) => ({
            step: resource.name,
            host: target(resource),
            path: file,
            mode,
            owner,
            content: quote ? body : body.replace(/\\`/g, "`"),
            template: !quote,
        })),
    );
}

/** A real CA an operator could bring (pki.caCertificate and its key), made as the offline capture makes the stack's own. */
export function operatorCa(): { certPem: string; keyPem: string } {
    const key = tlsOutputs(RESOURCE_TYPES.tlsPrivateKey, { algorithm: "ECDSA", ecdsaCurve: "P256" })!;
    const ca = tlsOutputs(RESOURCE_TYPES.tlsSelfSignedCert, {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: "Operator CA", organization: "operator" },
        isCaCertificate: true,
        validityPeriodHours: 24 * 365,
        allowedUses: ["cert_signing", "crl_signing"],
    })!;
    return { certPem: String(ca.certPem), keyPem: String(key.privateKeyPem) };
}
