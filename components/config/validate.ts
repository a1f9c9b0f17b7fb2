/**
 * Turns raw stack configuration (what `pulumi config` holds) into a checked StackConfig.
 * Every problem is collected with its config path, so one run reports all of them at once,
 * and the stack program throws before it creates any resource.
 */
import { cidrContains, cidrProblem, cidrsOverlap, isIPv4 } from "./network";
import { readCloud, readConfigSync, readDrbd } from "./patternSections";
import { ConfigError, ConfigProblem, Reader, describe } from "./reader";
import { LABEL, readDb, readFailoverDelay, readFrontend, readLoad, readLoadBalancer, readZabbix } from "./sections";
import {
    DEFAULT_PATTERN,
    DbConfig,
    DrbdConfig,
    FrontendConfig,
    HostConfig,
    LoadBalancerConfig,
    OS_FAMILIES,
    OsFamily,
    ROLES,
    Role,
    SiteConfig,
    StackConfig,
    ZabbixConfig,
    isWitnessSite,
} from "./types";

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
    /** Which secrets are set; their values are never read here. */
    readonly secrets: {
        readonly sshPrivateKey: boolean;
        readonly zabbixApiPassword?: boolean;
        readonly cloudDbAdminPassword?: boolean;
    };
    readonly requirements: PatternRequirements;
}

export const TOP_LEVEL_KEYS = [
    "pattern",
    "sites",
    "sshPrivateKey",
    "zabbix",
    "failoverDelay",
    "db",
    "loadBalancer",
    "frontend",
    "load",
    "drbd",
    "configSync",
    "zabbixApiPassword",
    "cloud",
    "cloudDbAdminPassword",
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

    if (!options.secrets.sshPrivateKey) {
        r.problem("sshPrivateKey", "is required: set it with `pulumi config set --secret sshPrivateKey < key`");
    }
    const sites = readSites(r, top.sites, needs.minSites);
    const zabbix = readZabbix(r, top.zabbix, sites);
    const failoverDelaySeconds = readFailoverDelay(r, top.failoverDelay);
    const db = readDb(r, top.db, sites, needs.selfRunDatabase);
    const loadBalancer = readLoadBalancer(r, top.loadBalancer);
    const frontend = readFrontend(r, top.frontend);
    const load = readLoad(r, top.load);
    const drbd = readDrbd(r, top.drbd, sites, sections.has("drbd") || db?.fallbackPair === true);
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
    if (sections.has("configSync") && !options.secrets.zabbixApiPassword) {
        r.problem(
            "zabbixApiPassword",
            "is required by this pattern: the Zabbix API password of configSync.apiUser on every site (pulumi config set --secret)",
        );
    }
    const cloud = readCloud(r, top.cloud, sections.has("cloud"));
    if (sections.has("cloud") && !options.secrets.cloudDbAdminPassword) {
        r.problem(
            "cloudDbAdminPassword",
            "is required by this pattern: the managed PostgreSQL admin password (pulumi config set --secret)",
        );
    }
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
        sections: read as S,
    };
}

/** The sites and their hosts; a site or host that does not read cleanly is reported and left out. */
export function readSites(r: Reader, value: unknown, minSites: number): SiteConfig[] {
    if (!Array.isArray(value)) {
        r.problem(
            "sites",
            value === undefined
                ? "is required: list the sites and their hosts"
                : `expected a list, got ${describe(value)}`,
        );
        return [];
    }
    if (value.length < minSites) {
        r.problem(
            "sites",
            `${value.length} site${value.length === 1 ? "" : "s"} given; this pattern needs at least ${minSites} so that losing one site leaves monitoring running`,
        );
    }
    const sites: SiteConfig[] = [];
    const siteNames = new Map<string, string>();
    const hostNames = new Map<string, string>();
    const addresses = new Map<string, string>();
    value.forEach((rawSite, i) => {
        const path = `sites[${i}]`;
        const node = r.object(rawSite, path, ["name", "network", "l2Segment", "lost", "hosts"]);
        if (!node) {
            return;
        }
        const name = r.string(node, "name", path);
        if (name !== undefined) {
            if (!LABEL.test(name)) {
                r.problem(`${path}.name`, `"${name}" is not a valid name (lower-case letters, digits and "-")`);
            } else if (siteNames.has(name)) {
                r.problem(`${path}.name`, `duplicate site name "${name}" (also ${siteNames.get(name)})`);
            }
            siteNames.set(name, `${path}.name`);
        }
        const network = r.string(node, "network", path);
        const networkProblem = network === undefined ? "missing" : cidrProblem(network);
        if (network !== undefined && networkProblem) {
            r.problem(`${path}.network`, networkProblem);
        }
        const validNetwork = networkProblem ? undefined : network;
        if (validNetwork) {
            sites.forEach((other, j) => {
                if (cidrsOverlap(other.network, validNetwork)) {
                    r.problem(
                        `${path}.network`,
                        `${validNetwork} overlaps sites[${j}].network ${other.network}; L3 sites need separate networks`,
                    );
                }
            });
        }
        const l2Segment = r.boolean(node, "l2Segment", path, false);
        const lost = r.boolean(node, "lost", path, false);
        const hosts = readHosts(r, node.hosts, path, validNetwork, hostNames, addresses);
        if (name !== undefined && validNetwork !== undefined && l2Segment !== undefined && lost !== undefined) {
            sites.push({ name, network: validNetwork, l2Segment, lost, hosts });
        }
    });
    return sites;
}

function readHosts(
    r: Reader,
    value: unknown,
    sitePath: string,
    network: string | undefined,
    hostNames: Map<string, string>,
    addresses: Map<string, string>,
): HostConfig[] {
    const path = `${sitePath}.hosts`;
    if (!Array.isArray(value) || value.length === 0) {
        r.problem(
            path,
            value === undefined ? "is required: a site needs at least one host" : "expected a non-empty list of hosts",
        );
        return [];
    }
    const hosts: HostConfig[] = [];
    value.forEach((rawHost, i) => {
        const hostPath = `${path}[${i}]`;
        const node = r.object(rawHost, hostPath, [
            "name",
            "address",
            "roles",
            "sshUser",
            "sshPort",
            "os",
            "cpus",
            "memoryGiB",
        ]);
        if (!node) {
            return;
        }
        const name = r.string(node, "name", hostPath);
        if (name !== undefined) {
            if (!LABEL.test(name)) {
                r.problem(
                    `${hostPath}.name`,
                    `"${name}" is not a valid host name (lower-case letters, digits and "-")`,
                );
            } else if (hostNames.has(name)) {
                r.problem(`${hostPath}.name`, `duplicate host name "${name}" (also ${hostNames.get(name)})`);
            }
            hostNames.set(name, `${hostPath}.name`);
        }
        const address = r.string(node, "address", hostPath);
        let addressOk = false;
        if (address !== undefined) {
            if (!isIPv4(address)) {
                r.problem(`${hostPath}.address`, `"${address}" is not an IPv4 address`);
            } else if (network !== undefined && !cidrContains(network, address)) {
                r.problem(`${hostPath}.address`, `${address} is outside its site's network ${network}`);
            } else if (addresses.has(address)) {
                r.problem(`${hostPath}.address`, `${address} is already used by ${addresses.get(address)}`);
            } else {
                addressOk = true;
            }
            addresses.set(address, hostPath);
        }
        const roles = readRoles(r, node.roles, `${hostPath}.roles`);
        const sshUser = r.string(node, "sshUser", hostPath, "root");
        const sshPort = r.integer(node, "sshPort", hostPath, 22, 1, 65535);
        const os = r.oneOf<OsFamily>(node, "os", hostPath, OS_FAMILIES, "debian12");
        const cpus = node.cpus === undefined ? undefined : r.integer(node, "cpus", hostPath, 0, 1, 4096);
        const memoryGiB =
            node.memoryGiB === undefined ? undefined : r.integer(node, "memoryGiB", hostPath, 0, 1, 65536);
        if (name !== undefined && addressOk && roles && sshUser !== undefined && sshPort !== undefined && os) {
            hosts.push({
                name,
                address: address!,
                roles,
                sshUser,
                sshPort,
                os,
                ...(cpus ? { cpus } : {}),
                ...(memoryGiB ? { memoryGiB } : {}),
            });
        }
    });
    return hosts;
}

/**
 * The host's roles. A bad entry is a problem but does not discard the others: the cross-checks
 * (a site's db host, its load balancer) then judge the roles that were given, so one typo is
 * reported alone. A misspelling of one known role counts as that role for those checks.
 */
function readRoles(r: Reader, value: unknown, path: string): Role[] | undefined {
    if (!Array.isArray(value) || value.length === 0) {
        r.problem(path, `expected a non-empty list of roles among ${ROLES.join(", ")}`);
        return undefined;
    }
    const roles: Role[] = [];
    value.forEach((role, i) => {
        if (!ROLES.includes(role as Role)) {
            const meant = typeof role === "string" ? misspeltRole(role) : undefined;
            r.problem(
                `${path}[${i}]`,
                `unknown role ${JSON.stringify(role)} (${meant ? `did you mean "${meant}"? ` : ""}known: ${ROLES.join(", ")})`,
            );
            if (meant && !roles.includes(meant)) {
                roles.push(meant);
            }
        } else if (value.indexOf(role) !== i) {
            r.problem(`${path}[${i}]`, `role "${role}" is listed twice`);
        } else if (!roles.includes(role as Role)) {
            roles.push(role as Role);
        }
    });
    // A set, kept in one canonical order: the same roles in another order plan the same steps.
    return ROLES.filter(role => roles.includes(role));
}

/** The one known role within two edits of `word` (a typo), if exactly one is. */
function misspeltRole(word: string): Role | undefined {
    const close = ROLES.filter(role => editDistance(word, role) <= 2);
    return close.length === 1 ? close[0] : undefined;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) {
            row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = row;
    }
    return previous[b.length];
}

/** One DB host per site (replicas live in other sites), except the two nodes of a fallback pair. */
function checkDbHostsPerSite(r: Reader, sites: readonly SiteConfig[], pair: DrbdConfig | undefined): void {
    sites.forEach((site, i) => {
        const dbHosts = site.hosts.filter(
            host => host.roles.includes("db") && !(pair?.site === site.name && pair.nodes.slice(1).includes(host.name)),
        );
        if (dbHosts.length > 1) {
            r.problem(
                `sites[${i}].hosts`,
                `site "${site.name}" has ${dbHosts.length} db hosts (${dbHosts.map(h => h.name).join(", ")}); ` +
                    "a site holds one DB host, and replicas live in other sites (or two, as the db.fallbackPair)",
            );
        }
    });
}

/** Services that reach the database or the UI go through their own site's load balancer. */
function checkSiteServices(r: Reader, sites: readonly SiteConfig[]): void {
    sites.forEach((site, i) => {
        const lbs = site.hosts.filter(host => host.roles.includes("lb"));
        const clients = site.hosts.filter(
            host => host.roles.includes("zabbix-server") || host.roles.includes("frontend"),
        );
        if (lbs.length > 1) {
            r.problem(
                `sites[${i}].hosts`,
                `site "${site.name}" has ${lbs.length} lb hosts; one load balancer per site (no VIP across hosts)`,
            );
        }
        if (clients.length > 0 && lbs.length === 0) {
            r.problem(
                `sites[${i}].hosts`,
                `site "${site.name}" runs ${clients.map(h => h.name).join(", ")} but has no lb host; ` +
                    "Zabbix servers and frontends reach the DB through their own site's load balancer",
            );
        }
    });
}

/** Services that can share a host must not share a port. */
function checkPorts(
    r: Reader,
    lb: LoadBalancerConfig,
    frontend: FrontendConfig,
    db: DbConfig,
    zabbix: ZabbixConfig | undefined,
): void {
    const ports: Array<[string, number]> = [
        ["loadBalancer.httpPort", lb.httpPort],
        ["loadBalancer.dbPort", lb.dbPort],
        ["frontend.port", frontend.port],
        ["db.port", db.port],
    ];
    if (zabbix) {
        ports.push(["zabbix.listenPort", zabbix.listenPort]);
    }
    ports.forEach(([path, port], i) => {
        const clash = ports.slice(0, i).find(([, other]) => other === port);
        if (clash) {
            r.problem(path, `port ${port} is also ${clash[0]}; a host may carry both roles`);
        }
    });
}
