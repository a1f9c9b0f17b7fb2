/**
 * Turns raw stack configuration (what `pulumi config` holds) into a checked StackConfig.
 * Every problem is collected with its config path, so one run reports all of them at once,
 * and the stack program throws before it creates any resource.
 */
import * as pulumi from "@pulumi/pulumi";
import { platformFor } from "../platform";
import { parseZabbixDuration } from "./duration";
import { cidrContains, cidrProblem, cidrsOverlap, isIPv4 } from "./network";
import {
    DbConfig, FrontendConfig, HostConfig, LoadBalancerConfig, LoadConfig, OS_FAMILIES, OsFamily,
    ROLES, Role, SiteConfig, StackConfig, ZABBIX_VERSIONS, ZabbixConfig, ZabbixVersion,
} from "./types";

export interface ConfigProblem {
    /** Config path, e.g. `sites[1].hosts[0].address`. */
    readonly path: string;
    readonly message: string;
}

/**
 * Thrown when the configuration has problems; its message lists every one of them. A RunError, so
 * `pulumi preview` prints the list alone, without a stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly problems: readonly ConfigProblem[]) {
        super(`invalid zabbix-ha configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n`
            + problems.map(p => `  - ${p.path}: ${p.message}`).join("\n"));
        this.name = "ConfigError";
    }
}

/** Raw configuration keys of the `zabbix-ha` namespace, as parsed from YAML or `pulumi config`. */
export interface RawStackConfig {
    readonly [key: string]: unknown;
}

export interface ValidationOptions {
    /** Whether `sshPrivateKey` is set; its value is a secret and never read here. */
    readonly hasSshKey: boolean;
    /** The smallest number of sites the chosen pattern needs (2 for an HA pattern). */
    readonly minSites: number;
    /** Roles the pattern needs at least one host of. */
    readonly requiredRoles: readonly Role[];
}

export const FAILOVER_DELAY_MIN_SECONDS = 10;
export const FAILOVER_DELAY_MAX_SECONDS = 15 * 60;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LEVEL_KEYS = ["sites", "sshPrivateKey", "zabbix", "failoverDelay", "db", "loadBalancer", "frontend", "load", "pattern"];

/** Collects problems while reading one level of raw config. */
class Reader {
    constructor(private readonly problems: ConfigProblem[]) {}

    problem(path: string, message: string): void {
        this.problems.push({ path, message });
    }

    /** An object node; reports unknown keys, which are nearly always typos. */
    object(value: unknown, path: string, keys: readonly string[]): Record<string, unknown> | undefined {
        if (value === undefined || value === null) {
            return {};
        }
        if (typeof value !== "object" || Array.isArray(value)) {
            this.problem(path, `expected a mapping, got ${describe(value)}`);
            return undefined;
        }
        for (const key of Object.keys(value)) {
            if (!keys.includes(key)) {
                this.problem(join(path, key), `unknown key (known: ${keys.join(", ")})`);
            }
        }
        return value as Record<string, unknown>;
    }

    string(node: Record<string, unknown>, key: string, path: string, fallback?: string): string | undefined {
        const value = node[key];
        if (value === undefined || value === null || value === "") {
            if (fallback === undefined) {
                this.problem(join(path, key), "is required");
            }
            return fallback;
        }
        if (typeof value !== "string") {
            this.problem(join(path, key), `expected a string, got ${describe(value)}`);
            return undefined;
        }
        return value;
    }

    oneOf<T extends string>(node: Record<string, unknown>, key: string, path: string, allowed: readonly T[], fallback: T): T | undefined {
        const value = this.string(node, key, path, fallback);
        if (value !== undefined && !allowed.includes(value as T)) {
            this.problem(join(path, key), `"${value}" is not one of ${allowed.join(", ")}`);
            return undefined;
        }
        return value as T | undefined;
    }

    integer(node: Record<string, unknown>, key: string, path: string, fallback: number, min: number, max: number): number | undefined {
        const value = node[key] ?? fallback;
        const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
        if (typeof number !== "number" || !Number.isInteger(number) || number < min || number > max) {
            this.problem(join(path, key), `${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
            return undefined;
        }
        return number;
    }

    boolean(node: Record<string, unknown>, key: string, path: string, fallback: boolean): boolean | undefined {
        const value = node[key] ?? fallback;
        if (value === "true" || value === "false") {
            return value === "true";
        }
        if (typeof value !== "boolean") {
            this.problem(join(path, key), `expected true or false, got ${describe(value)}`);
            return undefined;
        }
        return value;
    }
}

function join(path: string, key: string): string {
    return path ? `${path}.${key}` : key;
}

function describe(value: unknown): string {
    return Array.isArray(value) ? "a list" : value === null ? "null" : `${typeof value} ${JSON.stringify(value)}`;
}

/** Validates raw configuration; throws ConfigError listing every problem, or returns the checked config. */
export function validateStackConfig(raw: RawStackConfig, options: ValidationOptions): StackConfig {
    const problems: ConfigProblem[] = [];
    const r = new Reader(problems);
    const top = r.object(raw, "", TOP_LEVEL_KEYS) ?? {};

    if (!options.hasSshKey) {
        r.problem("sshPrivateKey", "is required: set it with `pulumi config set --secret sshPrivateKey < key`");
    }
    const sites = readSites(r, top.sites, options.minSites);
    const zabbix = readZabbix(r, top.zabbix, sites);
    const failoverDelaySeconds = readFailoverDelay(r, top.failoverDelay);
    const db = readDb(r, top.db, sites);
    const loadBalancer = readLoadBalancer(r, top.loadBalancer);
    const frontend = readFrontend(r, top.frontend);
    const load = readLoad(r, top.load);
    checkSiteServices(r, sites);
    for (const role of options.requiredRoles.filter(role => role !== "db")) {
        if (sites.length > 0 && !sites.some(site => site.hosts.some(host => host.roles.includes(role)))) {
            r.problem("sites", `no host has the ${role} role; this pattern needs at least one`);
        }
    }
    if (loadBalancer && frontend && db) {
        checkPorts(r, loadBalancer, frontend, db, zabbix);
    }

    if (problems.length > 0 || !zabbix || failoverDelaySeconds === undefined || !db || !loadBalancer || !frontend || !load) {
        throw new ConfigError(problems);
    }
    return { sites, zabbix, failoverDelaySeconds, db, loadBalancer, frontend, load };
}

function readSites(r: Reader, value: unknown, minSites: number): SiteConfig[] {
    if (!Array.isArray(value)) {
        r.problem("sites", value === undefined ? "is required: list the sites and their hosts" : `expected a list, got ${describe(value)}`);
        return [];
    }
    if (value.length < minSites) {
        r.problem("sites", `${value.length} site${value.length === 1 ? "" : "s"} given; this pattern needs at least ${minSites} so that losing one site leaves monitoring running`);
    }
    const sites: SiteConfig[] = [];
    const siteNames = new Map<string, string>();
    const hostNames = new Map<string, string>();
    const addresses = new Map<string, string>();
    value.forEach((rawSite, i) => {
        const path = `sites[${i}]`;
        const node = r.object(rawSite, path, ["name", "network", "l2Segment", "hosts"]);
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
                    r.problem(`${path}.network`, `${validNetwork} overlaps sites[${j}].network ${other.network}; L3 sites need separate networks`);
                }
            });
        }
        const l2Segment = r.boolean(node, "l2Segment", path, false);
        const hosts = readHosts(r, node.hosts, path, validNetwork, hostNames, addresses);
        if (name !== undefined && validNetwork !== undefined && l2Segment !== undefined) {
            sites.push({ name, network: validNetwork, l2Segment, hosts });
        }
    });
    return sites;
}

function readHosts(
    r: Reader, value: unknown, sitePath: string, network: string | undefined,
    hostNames: Map<string, string>, addresses: Map<string, string>,
): HostConfig[] {
    const path = `${sitePath}.hosts`;
    if (!Array.isArray(value) || value.length === 0) {
        r.problem(path, value === undefined ? "is required: a site needs at least one host" : "expected a non-empty list of hosts");
        return [];
    }
    const hosts: HostConfig[] = [];
    value.forEach((rawHost, i) => {
        const hostPath = `${path}[${i}]`;
        const node = r.object(rawHost, hostPath, ["name", "address", "roles", "sshUser", "sshPort", "os"]);
        if (!node) {
            return;
        }
        const name = r.string(node, "name", hostPath);
        if (name !== undefined) {
            if (!LABEL.test(name)) {
                r.problem(`${hostPath}.name`, `"${name}" is not a valid host name (lower-case letters, digits and "-")`);
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
        if (name !== undefined && addressOk && roles && sshUser !== undefined && sshPort !== undefined && os) {
            hosts.push({ name, address: address!, roles, sshUser, sshPort, os });
        }
    });
    return hosts;
}

function readRoles(r: Reader, value: unknown, path: string): Role[] | undefined {
    if (!Array.isArray(value) || value.length === 0) {
        r.problem(path, `expected a non-empty list of roles among ${ROLES.join(", ")}`);
        return undefined;
    }
    let ok = true;
    value.forEach((role, i) => {
        if (!ROLES.includes(role as Role)) {
            r.problem(`${path}[${i}]`, `unknown role ${JSON.stringify(role)} (known: ${ROLES.join(", ")})`);
            ok = false;
        } else if (value.indexOf(role) !== i) {
            r.problem(`${path}[${i}]`, `role "${role}" is listed twice`);
            ok = false;
        }
    });
    return ok ? (value as Role[]) : undefined;
}

function readZabbix(r: Reader, value: unknown, sites: readonly SiteConfig[]): ZabbixConfig | undefined {
    const node = r.object(value, "zabbix", ["version", "packageSource", "repositoryUrl", "listenPort"]);
    if (!node) {
        return undefined;
    }
    // YAML reads `7.0` as the number 7: accept the series either way.
    const rawVersion = node.version ?? "7.0";
    const version = (typeof rawVersion === "number" ? rawVersion.toFixed(1) : rawVersion) as ZabbixVersion;
    if (!ZABBIX_VERSIONS.includes(version)) {
        r.problem("zabbix.version", `unknown Zabbix version ${JSON.stringify(rawVersion)} (supported: ${ZABBIX_VERSIONS.join(", ")})`);
    }
    const packageSource = r.oneOf(node, "packageSource", "zabbix", ["vendor", "distribution"] as const, "vendor");
    const repositoryUrl = r.string(node, "repositoryUrl", "zabbix", "");
    if (packageSource === "vendor" && !repositoryUrl) {
        r.problem("zabbix.repositoryUrl", "is required with packageSource vendor: the base URL of Zabbix's package repository or of your mirror of it");
    } else if (repositoryUrl && !/^https?:\/\/[^\s'"]+$/.test(repositoryUrl)) {
        r.problem("zabbix.repositoryUrl", `"${repositoryUrl}" is not an http(s) URL`);
    }
    if (packageSource === "distribution" && ZABBIX_VERSIONS.includes(version)) {
        sites.forEach((site, i) => site.hosts.forEach((host, j) => {
            const shipped = platformFor(host.os).distributionZabbix;
            const needsZabbix = host.roles.includes("zabbix-server") || host.roles.includes("frontend");
            if (needsZabbix && shipped !== version) {
                r.problem(`sites[${i}].hosts[${j}].os`, `${platformFor(host.os).label} does not ship Zabbix ${version} `
                    + `(it ships ${shipped ?? "no supported series"}); use zabbix.packageSource vendor`
                    + (shipped ? ` or zabbix.version ${shipped}` : ""));
            }
        }));
    }
    const listenPort = r.integer(node, "listenPort", "zabbix", 10051, 1, 65535);
    if (!ZABBIX_VERSIONS.includes(version) || !packageSource || listenPort === undefined) {
        return undefined;
    }
    return { version, packageSource, repositoryUrl: repositoryUrl || undefined, listenPort };
}

function readFailoverDelay(r: Reader, value: unknown): number | undefined {
    const seconds = parseZabbixDuration(value ?? "1m");
    if (seconds === undefined) {
        r.problem("failoverDelay", `${JSON.stringify(value)} is not a duration (use Zabbix's syntax: "30s", "1m")`);
        return undefined;
    }
    if (seconds < FAILOVER_DELAY_MIN_SECONDS || seconds > FAILOVER_DELAY_MAX_SECONDS) {
        r.problem("failoverDelay", `${JSON.stringify(value)} is out of Zabbix's range (10s to 15m)`);
        return undefined;
    }
    return seconds;
}

function readDb(r: Reader, value: unknown, sites: readonly SiteConfig[]): DbConfig | undefined {
    const node = r.object(value, "db", ["primarySite", "replication", "port", "name", "user", "adminNetwork"]);
    if (!node) {
        return undefined;
    }
    const dbSites = sites.filter(site => site.hosts.some(host => host.roles.includes("db")));
    if (sites.length > 0 && dbSites.length === 0) {
        r.problem("sites", "no host has the db role; the Zabbix database needs one");
    }
    sites.forEach((site, i) => {
        const dbHosts = site.hosts.filter(host => host.roles.includes("db"));
        if (dbHosts.length > 1) {
            r.problem(`sites[${i}].hosts`, `site "${site.name}" has ${dbHosts.length} db hosts (${dbHosts.map(h => h.name).join(", ")}); `
                + "a site holds one DB host, and replicas live in other sites");
        }
    });
    const primarySite = r.string(node, "primarySite", "db", dbSites[0]?.name ?? "");
    if (primarySite) {
        const site = sites.find(s => s.name === primarySite);
        if (!site) {
            r.problem("db.primarySite", `"${primarySite}" is not a site (sites: ${sites.map(s => s.name).join(", ")})`);
        } else if (!dbSites.includes(site)) {
            r.problem("db.primarySite", `site "${primarySite}" has no host with the db role`);
        }
    }
    const replication = r.oneOf(node, "replication", "db", ["async", "sync"] as const, "async");
    if (replication === "sync" && dbSites.length < 2) {
        r.problem("db.replication", "sync needs a replica in another site; with none the primary would wait forever on commit");
    }
    const port = r.integer(node, "port", "db", 5432, 1, 65535);
    const name = r.string(node, "name", "db", "zabbix");
    const user = r.string(node, "user", "db", "zabbix");
    for (const [key, v] of [["name", name], ["user", user]] as const) {
        if (v !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(v)) {
            r.problem(`db.${key}`, `"${v}" is not a plain PostgreSQL identifier (lower-case letters, digits, "_")`);
        }
    }
    const adminNetwork = r.string(node, "adminNetwork", "db");
    const adminProblem = adminNetwork === undefined ? "missing" : cidrProblem(adminNetwork);
    if (adminNetwork !== undefined && adminProblem) {
        r.problem("db.adminNetwork", adminProblem);
    }
    if (!primarySite || !replication || port === undefined || !name || !user || adminProblem) {
        return undefined;
    }
    return { primarySite, replication, port, name, user, adminNetwork: adminNetwork! };
}

function readLoadBalancer(r: Reader, value: unknown): LoadBalancerConfig | undefined {
    const node = r.object(value, "loadBalancer", ["httpPort", "dbPort"]);
    if (!node) {
        return undefined;
    }
    const httpPort = r.integer(node, "httpPort", "loadBalancer", 80, 1, 65535);
    const dbPort = r.integer(node, "dbPort", "loadBalancer", 5433, 1, 65535);
    return httpPort !== undefined && dbPort !== undefined ? { httpPort, dbPort } : undefined;
}

function readFrontend(r: Reader, value: unknown): FrontendConfig | undefined {
    const node = r.object(value, "frontend", ["port", "timezone"]);
    if (!node) {
        return undefined;
    }
    const port = r.integer(node, "port", "frontend", 8080, 1, 65535);
    const timezone = r.string(node, "timezone", "frontend", "UTC");
    if (timezone !== undefined && !/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(timezone)) {
        r.problem("frontend.timezone", `"${timezone}" is not a time zone name such as Asia/Tokyo`);
        return undefined;
    }
    return port !== undefined && timezone !== undefined ? { port, timezone } : undefined;
}

function readLoad(r: Reader, value: unknown): LoadConfig | undefined {
    const node = r.object(value, "load", ["monitoredHosts", "items", "updateIntervalSeconds"]);
    if (!node) {
        return undefined;
    }
    const monitoredHosts = r.integer(node, "monitoredHosts", "load", 100, 1, 10_000_000);
    const items = r.integer(node, "items", "load", 10_000, 1, 1_000_000_000);
    const updateIntervalSeconds = r.integer(node, "updateIntervalSeconds", "load", 60, 1, 86_400);
    if (monitoredHosts === undefined || items === undefined || updateIntervalSeconds === undefined) {
        return undefined;
    }
    return { monitoredHosts, items, updateIntervalSeconds };
}

/** Services that reach the database or the UI go through their own site's load balancer. */
function checkSiteServices(r: Reader, sites: readonly SiteConfig[]): void {
    sites.forEach((site, i) => {
        const lbs = site.hosts.filter(host => host.roles.includes("lb"));
        const clients = site.hosts.filter(host => host.roles.includes("zabbix-server") || host.roles.includes("frontend"));
        if (lbs.length > 1) {
            r.problem(`sites[${i}].hosts`, `site "${site.name}" has ${lbs.length} lb hosts; one load balancer per site (no VIP across hosts)`);
        }
        if (clients.length > 0 && lbs.length === 0) {
            r.problem(`sites[${i}].hosts`, `site "${site.name}" runs ${clients.map(h => h.name).join(", ")} but has no lb host; `
                + "Zabbix servers and frontends reach the DB through their own site's load balancer");
        }
    });
}

/** Services that can share a host must not share a port. */
function checkPorts(r: Reader, lb: LoadBalancerConfig, frontend: FrontendConfig, db: DbConfig, zabbix: ZabbixConfig | undefined): void {
    const ports: Array<[string, number]> = [
        ["loadBalancer.httpPort", lb.httpPort], ["loadBalancer.dbPort", lb.dbPort],
        ["frontend.port", frontend.port], ["db.port", db.port],
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
