/**
 * The Debian 13 + Zabbix 7.0 plans whose files the Debian 13 checks hand to the programs: every
 * shipped config whose hosts all run Debian 13 with Debian's own Zabbix 7.0, and the prod
 * environment moved onto that platform (separate hosts per role, the large load, three sites).
 */
import { readdirSync } from "fs";
import * as path from "path";
import { EnvironmentConfig, planEnvironment, readEnvironment } from "../../tools/offline";
import { PlannedFile, ROOT, plannedFiles } from "../support/plan";

/** What makes a config's hosts run on the root: every host on Debian 13, Zabbix 7.0 from Debian's archive. */
function onDebian13(env: EnvironmentConfig): boolean {
    const zabbix = JSON.parse(env.config["zabbix-ha:zabbix"] ?? "{}");
    const sites = JSON.parse(env.config["zabbix-ha:sites"] ?? "[]") as { hosts: { os?: string }[] }[];
    const hosts = sites.flatMap(s => s.hosts);
    return (
        zabbix.version === "7.0" &&
        zabbix.packageSource === "distribution" &&
        hosts.length > 0 &&
        hosts.every(h => h.os === "debian13")
    );
}

/** An environment with every host moved to Debian 13 and Debian's own Zabbix 7.0 (Debian 13's Patroni needs no repository). */
function movedToDebian13(env: EnvironmentConfig): EnvironmentConfig {
    const sites = JSON.parse(env.config["zabbix-ha:sites"]) as { hosts: Record<string, unknown>[] }[];
    const { patroniRepository: _repository, ...db } = JSON.parse(env.config["zabbix-ha:db"]);
    return {
        ...env,
        config: {
            ...env.config,
            "zabbix-ha:zabbix": JSON.stringify({ version: "7.0", packageSource: "distribution" }),
            "zabbix-ha:db": JSON.stringify(db),
            "zabbix-ha:sites": JSON.stringify(
                sites.map(s => ({ ...s, hosts: s.hosts.map(h => ({ ...h, os: "debian13" })) })),
            ),
        },
    };
}

/** The environments planned: the shipped Debian 13 ones by file, and prod moved. */
export function debian13Environments(): { name: string; env: EnvironmentConfig }[] {
    const shipped = ["Pulumi.dev.yaml", "Pulumi.prod.yaml", ...readdirSync(path.join(ROOT, "lab")).map(f => `lab/${f}`)]
        .filter(f => f.endsWith(".yaml"))
        .sort()
        .map(name => ({ name, env: readEnvironment(path.join(ROOT, name)) }))
        .filter(({ env }) => onDebian13(env));
    const prod = readEnvironment(path.join(ROOT, "Pulumi.prod.yaml"));
    return [...shipped, { name: "Pulumi.prod.yaml on Debian 13", env: movedToDebian13(prod) }];
}

/** A file of one of the plans, with the environment it came from. */
export interface Debian13File extends PlannedFile {
    readonly environment: string;
}

/** Plans each environment (one at a time: the SDK's mock runtime is process-wide) and returns every file its steps install. */
export async function debian13Files(): Promise<Debian13File[]> {
    const files: Debian13File[] = [];
    for (const { name, env } of debian13Environments()) {
        const plan = await planEnvironment(env, { placeholderSecrets: true });
        if (plan.error) {
            throw new Error(`${name} does not plan: ${plan.error.message}`);
        }
        files.push(...plannedFiles(plan).map(f => ({ ...f, environment: name })));
    }
    return files;
}

/**
 * The files a step installs with the shell variables of secrets' templates replaced by a stand-in,
 * as a host holds them once the step ran (a password include, a .pgpass).
 */
export function withStandInSecrets(file: PlannedFile): string {
    return file.template
        ? file.content.replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, "zha-stand-in-secret")
        : file.content;
}
