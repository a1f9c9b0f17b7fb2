/**
 * Turns raw stack configuration (what `pulumi config` holds) into a checked StackConfig.
 * Every problem is collected with its config path, so one run reports all of them at once,
 * and the stack program throws before it creates any resource.
 */
import { readFirewall } from "./firewall";
import { checkDbHostsPerSite, checkPorts, checkSiteServices } from "./crossChecks";
import { readCloud, readConfigSync, readDrbd, readsFencePasswordFile } from "./patternSections";
import { readPki } from "./pki";
import { readProxyGroups } from "./proxies";
import { ConfigError, ConfigProblem, Reader } from "./reader";
import { SECRET_KEYS, SecretSettings, checkSecretSettings, setSecretCommand } from "./secrets";
import { readDb } from "./db";
import { readFrontend, readLoad, readLoadBalancer } from "./sections";
import { readFailoverDelay, readZabbix } from "./zabbix";
import { readSites } from "./sites";
import { DEFAULT_PATTERN, ConfigSyncConfig, Role, StackConfig, isWitnessSite } from "./types";
import { SUPER_ADMIN_USER } from "../postgres/schema";

/** Raw configuration keys of the `zabbix-ha` namespace, as parsed from YAML or `pulumi config`. */
export interface RawStackConfig {
    readonly [key: string]: unknown;
}

/** What a design pattern needs from the configuration. */
export interface PatternRequirements {
    /** The smallest number of sites (2 for an HA pattern). */
    readonly minSites: number;
    /** Roles the stack needs at least one host of. */
    readonly requiredRoles: readonly Role[];
    /** Roles every site needs (a complete Zabbix per site). */
    readonly rolesInEverySite?: readonly Role[];
    /** Whether the stack runs its own PostgreSQL on db hosts (not a managed endpoint). */
    readonly selfRunDatabase: boolean;
    /** Pattern sections that must be present. */
    readonly sections?: readonly ("drbd" | "configSync" | "cloud")[];
}

/**
 * A top-level section that another layer defines and reads (the preview model's `model`): it reads
 * with the same Reader, so its problems join the one error.
 */
export type SectionReader<T> = (r: Reader, value: unknown) => T | undefined;

export interface ValidationOptions {
    /** Which secret keys are set, and how (as a Pulumi secret, on one line); their values never reach validation. */
    readonly secrets: SecretSettings;
    readonly requirements: PatternRequirements;
}

export const TOP_LEVEL_KEYS = [
    "pattern",
    "sites",
    "zabbix",
    "failoverDelay",
    "db",
    "loadBalancer",
    "frontend",
    "load",
    "drbd",
    "configSync",
    "cloud",
    "pki",
    "firewall",
    ...SECRET_KEYS,
];

/**
 * Validates raw configuration; throws ConfigError listing every problem, or returns the checked
 * config, with what each of the given readers read from its own top-level section.
 */
export function validateStackConfig<S extends object = Record<never, never>>(
    raw: RawStackConfig,
    options: ValidationOptions,
    readers?: { readonly [K in keyof S]: SectionReader<S[K]> },
): StackConfig & { readonly sections: S } {
    const problems: ConfigProblem[] = [];
    const r = new Reader(problems);
    const extraKeys = Object.keys(readers ?? {});
    const top = r.object(raw, "", [...TOP_LEVEL_KEYS, ...extraKeys]) ?? {};
    const needs = options.requirements;
    const sections = new Set(needs.sections ?? []);

    checkSecretSettings(r, options.secrets);
    if (!options.secrets.sshPrivateKey) {
        r.problem("sshPrivateKey", `is required: set it with \`${setSecretCommand("sshPrivateKey")}\``);
    }
    const sites = readSites(r, top.sites, needs.minSites);
    const zabbixSection = readZabbix(r, top.zabbix, sites);
    const proxyGroups = readProxyGroups(r, (top.zabbix as { proxyGroups?: unknown } | undefined)?.proxyGroups, {
        sites,
        version: zabbixSection?.version,
        installationPerSite: needs.rolesInEverySite !== undefined,
    });
    const zabbix = zabbixSection && proxyGroups ? { ...zabbixSection, proxyGroups } : undefined;
    const failoverDelaySeconds = readFailoverDelay(r, top.failoverDelay);
    const db = readDb(r, top.db, sites, needs.selfRunDatabase);
    const loadBalancer = readLoadBalancer(r, top.loadBalancer);
    const frontend = readFrontend(r, top.frontend);
    const load = readLoad(r, top.load);
    const firewall = readFirewall(r, top.firewall);
    const pairBuilt = sections.has("drbd") || db?.fallbackPair === true;
    const drbd = readDrbd(r, top.drbd, sites, pairBuilt);
    const readingFencePassword = (drbd?.fencing.devices ?? []).filter(d => readsFencePasswordFile(d.params));
    if (pairBuilt && readingFencePassword.length > 0 && !options.secrets.fencePassword) {
        r.problem(
            "fencePassword",
            `is required: the fence devices of ${readingFencePassword.map(d => d.node).join(", ")} read their password ` +
                `from the file the library writes from it; set it: \`${setSecretCommand("fencePassword")}\``,
        );
    }
    checkDbHostsPerSite(r, sites, db?.fallbackPair ? drbd : undefined);
    if (db?.fallbackPair && drbd) {
        if (drbd.site !== db.primarySite) {
            r.problem(
                "db.fallbackPair",
                `the fallback pair is in site "${drbd.site}" but db.primarySite is "${db.primarySite}": the pair holds the primary`,
            );
        }
        drbd.nodes.forEach((name, i) => {
            if (!sites.some(s => s.hosts.some(h => h.name === name && h.roles.includes("db")))) {
                r.problem(`drbd.nodes[${i}]`, `${name} needs the db role to be half of the DB's fallback pair`);
            }
        });
    }
    const configSync = sections.has("configSync")
        ? readConfigSync(r, top.configSync, sites, db?.primarySite)
        : undefined;
    checkConfigSyncPassword(r, configSync, sections.has("configSync") && !!options.secrets.zabbixApiPassword);
    const cloud = readCloud(r, top.cloud, sections.has("cloud"));
    if (sections.has("cloud") && !options.secrets.cloudDbAdminPassword) {
        r.problem(
            "cloudDbAdminPassword",
            `is required by this pattern: the managed PostgreSQL admin password (\`${setSecretCommand("cloudDbAdminPassword")}\`)`,
        );
    }
    const pki = readPki(r, top.pki, options.secrets);
    const read = Object.fromEntries(
        extraKeys.map(key => [key, (readers as Record<string, SectionReader<unknown>>)[key](r, top[key])]),
    );
    checkSiteServices(r, sites);
    for (const role of needs.requiredRoles) {
        if (sites.length > 0 && !sites.some(site => site.hosts.some(host => host.roles.includes(role)))) {
            r.problem("sites", `no host has the ${role} role; this pattern needs at least one`);
        }
    }
    sites.forEach((site, i) => {
        const missing = isWitnessSite(site)
            ? []
            : (needs.rolesInEverySite ?? []).filter(role => !site.hosts.some(h => h.roles.includes(role)));
        if (missing.length > 0) {
            r.problem(
                `sites[${i}].hosts`,
                `site "${site.name}" has no ${missing.join(", ")} host; this pattern runs a complete Zabbix in every site`,
            );
        }
    });
    if (loadBalancer && frontend && db) {
        checkPorts(r, loadBalancer, frontend, db, zabbix);
    }

    const pattern = typeof top.pattern === "string" ? top.pattern : DEFAULT_PATTERN;
    if (
        problems.length > 0 ||
        !zabbix ||
        failoverDelaySeconds === undefined ||
        !db ||
        !loadBalancer ||
        !frontend ||
        !load ||
        !pki ||
        !firewall ||
        Object.values(read).some(v => v === undefined)
    ) {
        throw new ConfigError(problems);
    }
    return {
        pattern,
        sites,
        zabbix,
        failoverDelaySeconds,
        db,
        loadBalancer,
        frontend,
        load,
        drbd,
        configSync,
        cloud,
        pki,
        firewall,
        sections: read as S,
    };
}

/**
 * Whether a raw configSync section logs in as a user of the operator's, whose password is the secret
 * zabbixApiPassword (not Admin, the default, whose password the stack generates).
 */
export function configSyncTakesApiPassword(rawConfigSync: unknown): boolean {
    const user = (rawConfigSync as { apiUser?: unknown } | undefined)?.apiUser;
    return user !== undefined && user !== null && user !== "" && user !== SUPER_ADMIN_USER;
}

/**
 * The stack owns the Super Admin's password (it sets it on every site's `Admin`), so a sync that
 * logs in as Admin uses that one and zabbixApiPassword would be a second, wrong, password for it.
 * Another user is the operator's, made on every site, and zabbixApiPassword is its password.
 */
function checkConfigSyncPassword(r: Reader, sync: ConfigSyncConfig | undefined, passwordSet: boolean): void {
    if (!sync) {
        return;
    }
    if (sync.apiUser === SUPER_ADMIN_USER && passwordSet) {
        r.problem(
            "zabbixApiPassword",
            `is set, but configSync.apiUser is ${SUPER_ADMIN_USER}, whose password the stack generates (output zabbixAdminPassword) and the sync uses: unset it (\`pulumi config rm zabbixApiPassword\`), or set configSync.apiUser to the user it belongs to`,
        );
    } else if (sync.apiUser !== SUPER_ADMIN_USER && !passwordSet) {
        r.problem(
            "zabbixApiPassword",
            `is required with configSync.apiUser ${sync.apiUser}: that user's Zabbix API password on every site (\`${setSecretCommand("zabbixApiPassword")}\`); or leave configSync.apiUser unset to log in as ${SUPER_ADMIN_USER} with the stack's generated password`,
        );
    }
}
