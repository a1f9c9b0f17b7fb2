/**
 * Readers of the stack-wide sections: zabbix, failoverDelay, db, loadBalancer, frontend, load.
 */
import { PATRONI_MINIMUM_VERSION, POSTGRES_DEFAULT_PORT, compareVersions, platformFor } from "../platform";
import { ADMIN_ROLE, CHECK_ROLE, REPLICATION_ROLE } from "../postgres/roles";
import { parseZabbixDuration } from "./duration";
import { cidrProblem } from "./network";
import { Reader } from "./reader";
import { readReleasePackageSha256 } from "./releasePackage";
import { repositoryBaseProblem, urlCredentialProblem } from "./urls";
import {
    AptRepository,
    DbConfig,
    PASSWORD_ROLES,
    FrontendConfig,
    LoadBalancerConfig,
    LoadConfig,
    PackageSource,
    SiteConfig,
    ZABBIX_PACKAGE_ROLES,
    ZABBIX_VERSIONS,
    ZabbixConfig,
    ZabbixVersion,
} from "./types";

export const FAILOVER_DELAY_MIN_SECONDS = 10;
export const FAILOVER_DELAY_MAX_SECONDS = 15 * 60;
export const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** A URL a host fetches with curl: http(s), nothing that would need quoting. */
/**
 * What only https may carry: a trust anchor (an apt key, against which apt checks every signature
 * of its repository), and the vendor's repository, whose release package (the repository's key
 * inside) the package step installs with dpkg/rpm, as root, once its pinned SHA-256 matches. Over
 * http a machine in the middle could replace either. A repository checked against an https key may
 * itself be http (apt verifies it).
 */
const HTTPS_URL = /^https:\/\/[^\s'"]+$/;

/** The zabbix section but its proxy groups (proxies.ts reads those, once the hosts and the series are known). */
export function readZabbix(
    r: Reader,
    value: unknown,
    sites: readonly SiteConfig[],
): Omit<ZabbixConfig, "proxyGroups"> | undefined {
    const node = r.object(value, "zabbix", [
        "version",
        "packageSource",
        "repositoryUrl",
        "releasePackageSha256",
        "listenPort",
        "proxyGroups",
        "dataPathCheckInterval",
    ]);
    if (!node) {
        return undefined;
    }
    // YAML reads `7.0` as the number 7: accept the series either way.
    const rawVersion = node.version ?? "7.0";
    const version = (typeof rawVersion === "number" ? rawVersion.toFixed(1) : rawVersion) as ZabbixVersion;
    if (!ZABBIX_VERSIONS.includes(version)) {
        r.problem(
            "zabbix.version",
            `unknown Zabbix version ${JSON.stringify(rawVersion)} (supported: ${ZABBIX_VERSIONS.join(", ")})`,
        );
    }
    const packageSource = r.oneOf(node, "packageSource", "zabbix", ["vendor", "distribution"] as const, "vendor");
    const repositoryUrl = r.string(node, "repositoryUrl", "zabbix", "");
    if (packageSource === "vendor" && !repositoryUrl) {
        r.problem(
            "zabbix.repositoryUrl",
            "is required with packageSource vendor: the base URL of Zabbix's package repository or of your mirror of it",
        );
    } else if (repositoryUrl) {
        checkSourceUrl(
            r,
            "zabbix.repositoryUrl",
            repositoryUrl,
            HTTPS_URL.test(repositoryUrl)
                ? undefined
                : "an https URL (its release package is installed as root and brings the repository's signing key: https and the pinned zabbix.releasePackageSha256 both guard it)",
            true,
        );
    }
    const releasePackageSha256 = readReleasePackageSha256(
        r,
        node.releasePackageSha256,
        sites,
        packageSource === "vendor",
    );
    if (packageSource && ZABBIX_VERSIONS.includes(version)) {
        checkZabbixPackages(r, sites, version, packageSource);
    }
    // zabbix_server accepts ListenPort from 1024 to 32767 only.
    const listenPort = r.integer(node, "listenPort", "zabbix", 10051, 1024, 32767);
    // Every agent host sends one value per interval: 1 s for the lab's drills, a minute for an estate.
    const dataPathCheckSeconds = parseZabbixDuration(node.dataPathCheckInterval ?? "1m");
    if (dataPathCheckSeconds === undefined || dataPathCheckSeconds < 1 || dataPathCheckSeconds > 3600) {
        r.problem(
            "zabbix.dataPathCheckInterval",
            `${JSON.stringify(node.dataPathCheckInterval)} is not a duration from 1s to 1h (the data path check's interval)`,
        );
    }
    if (
        !ZABBIX_VERSIONS.includes(version) ||
        !packageSource ||
        listenPort === undefined ||
        dataPathCheckSeconds === undefined
    ) {
        return undefined;
    }
    return {
        version,
        packageSource,
        repositoryUrl: repositoryUrl || undefined,
        ...(releasePackageSha256 ? { releasePackageSha256 } : {}),
        listenPort,
        dataPathCheckSeconds,
    };
}

/**
 * Every host that installs Zabbix must be able to get `version` from `source` on its OS: the
 * distribution ships one series (or none), the vendor publishes its series for the OSes it builds.
 */
function checkZabbixPackages(r: Reader, sites: readonly SiteConfig[], version: ZabbixVersion, source: PackageSource) {
    sites.forEach((site, i) =>
        site.hosts.forEach((host, j) => {
            if (!host.roles.some(role => ZABBIX_PACKAGE_ROLES.includes(role))) {
                return;
            }
            const platform = platformFor(host.os);
            if (source === "distribution" && platform.distributionZabbix !== version) {
                const shipped = platform.distributionZabbix;
                const vendor = platform.vendorZabbix.includes(version) ? "use zabbix.packageSource vendor" : undefined;
                const other = shipped ? `zabbix.version ${shipped}` : undefined;
                r.problem(
                    `sites[${i}].hosts[${j}].os`,
                    `${platform.label} does not ship Zabbix ${version} (it ships ${shipped ?? "no supported series"})` +
                        (vendor || other ? `; ${[vendor, other].filter(Boolean).join(" or ")}` : ""),
                );
            } else if (source === "vendor" && !platform.vendorZabbix.includes(version)) {
                r.problem(
                    `sites[${i}].hosts[${j}].os`,
                    `the Zabbix repository has no ${version} packages for ${platform.label} ` +
                        `(it has ${platform.vendorZabbix.join(", ")})` +
                        (platform.distributionZabbix === version ? "; use zabbix.packageSource distribution" : ""),
                );
            }
        }),
    );
}

export function readFailoverDelay(r: Reader, value: unknown): number | undefined {
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

export function readDb(
    r: Reader,
    value: unknown,
    sites: readonly SiteConfig[],
    selfRun: boolean,
): DbConfig | undefined {
    const node = r.object(value, "db", [
        "primarySite",
        "replication",
        "port",
        "name",
        "user",
        "adminNetwork",
        "fallbackPair",
        "failover",
        "patroniRepository",
        "passwordRotation",
    ]);
    if (!node) {
        return undefined;
    }
    const dbSites = sites.filter(site => site.hosts.some(host => host.roles.includes("db")));
    if (selfRun && sites.length > 0 && dbSites.length === 0) {
        r.problem("sites", "no host has the db role; the Zabbix database needs one");
    }
    const primarySite = r.string(node, "primarySite", "db", dbSites[0]?.name ?? sites[0]?.name ?? "");
    if (primarySite && selfRun) {
        const site = sites.find(s => s.name === primarySite);
        if (!site) {
            r.problem("db.primarySite", `"${primarySite}" is not a site (sites: ${sites.map(s => s.name).join(", ")})`);
        } else if (!dbSites.includes(site)) {
            r.problem("db.primarySite", `site "${primarySite}" has no host with the db role`);
        } else if (site.lost) {
            r.problem(
                "db.primarySite",
                `site "${primarySite}" is marked lost (sites[${sites.indexOf(site)}].lost): ` +
                    "the primary must be where pulumi up can reach it; name a surviving site with a db host",
            );
        }
    }
    const replication = r.oneOf(node, "replication", "db", ["async", "sync"] as const, "async");
    if (selfRun && replication === "sync" && dbSites.length < 2) {
        r.problem(
            "db.replication",
            "sync needs a replica in another site; with none the primary would wait forever on commit",
        );
    }
    const port = r.integer(node, "port", "db", POSTGRES_DEFAULT_PORT, 1, 65535);
    const name = r.string(node, "name", "db", "zabbix");
    const user = r.string(node, "user", "db", "zabbix");
    for (const [key, v] of [
        ["name", name],
        ["user", user],
    ] as const) {
        if (v !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(v)) {
            r.problem(`db.${key}`, `"${v}" is not a plain PostgreSQL identifier (lower-case letters, digits, "_")`);
        } else if (
            v !== undefined &&
            RESERVED[key].some(reserved => (reserved.endsWith("_") ? v.startsWith(reserved) : v === reserved))
        ) {
            r.problem(
                `db.${key}`,
                `"${v}" is reserved (${RESERVED[key].map(n => (n.endsWith("_") ? `${n}...` : n)).join(", ")}): ${RESERVED_WHY[key]}`,
            );
        }
    }
    const adminNetwork = r.string(node, "adminNetwork", "db");
    const adminProblem =
        adminNetwork === undefined ? "missing" : (cidrProblem(adminNetwork) ?? adminNetworkWidth(adminNetwork));
    if (adminNetwork !== undefined && adminProblem) {
        r.problem("db.adminNetwork", adminProblem);
    }
    const fallbackPair = r.boolean(node, "fallbackPair", "db", false);
    const failover = r.oneOf(node, "failover", "db", ["manual", "patroni"] as const, "manual");
    if (failover === "patroni" && selfRun) {
        // etcd decides who leads; its members live on the DB hosts and witness hosts, one quorum across sites.
        const memberSites = sites.filter(s => s.hosts.some(h => h.roles.includes("db") || h.roles.includes("witness")));
        if (memberSites.length < 3) {
            r.problem(
                "db.failover",
                `patroni needs etcd members in at least three sites (found ${memberSites.map(s => s.name).join(", ") || "none"}): ` +
                    "with two, losing either site leaves no majority and no primary, and a cut between them cannot be told from a site loss. " +
                    "Add a third site with a witness host, or keep failover manual",
            );
        }
        if (fallbackPair) {
            r.problem("db.failover", "patroni and db.fallbackPair both want to move the primary; choose one");
        }
    }
    const patroniRepository =
        node.patroniRepository === undefined
            ? undefined
            : readAptRepository(r, node.patroniRepository, "db.patroniRepository");
    if (failover === "patroni" && selfRun) {
        checkPatroniSources(r, sites, node.patroniRepository !== undefined);
    } else if (failover !== "patroni" && node.patroniRepository !== undefined) {
        r.problem("db.patroniRepository", "is only used with db.failover patroni");
    }
    const passwordRotation = readPasswordRotation(r, node.passwordRotation);
    if (
        !primarySite ||
        !replication ||
        port === undefined ||
        !name ||
        !user ||
        adminProblem ||
        fallbackPair === undefined ||
        !failover ||
        (node.patroniRepository !== undefined && !patroniRepository) ||
        !passwordRotation
    ) {
        return undefined;
    }
    return {
        primarySite,
        replication,
        port,
        name,
        user,
        adminNetwork: adminNetwork!,
        fallbackPair,
        failover,
        patroniRepository,
        passwordRotation,
    };
}

/**
 * Names db.user and db.name may not take: PostgreSQL's own (its superuser, its template and default
 * databases, the pg_ prefix it keeps for roles of its own) and the roles the library creates.
 */
const RESERVED = {
    user: ["postgres", ADMIN_ROLE, CHECK_ROLE, REPLICATION_ROLE, "pg_"],
    name: ["postgres", "template0", "template1"],
} as const;
const RESERVED_WHY = {
    user: "the Zabbix owner role is a role of its own, with its own password, apart from the superuser and the library's roles",
    name: "PostgreSQL keeps these databases for itself; Zabbix's gets a name of its own",
} as const;

/**
 * The widest db.adminNetwork: a /16 (65,536 addresses) holds any operators' or jump hosts' network,
 * while the superuser may log in from it (pg_hba) and every load balancer's DB port admits it: a /0,
 * or a whole private range (10.0.0.0/8, 172.16.0.0/12), would admit every host that can route there.
 */
export const ADMIN_NETWORK_MIN_PREFIX = 16;

function adminNetworkWidth(cidr: string): string | undefined {
    const bits = Number(cidr.split("/")[1]);
    return bits < ADMIN_NETWORK_MIN_PREFIX
        ? `${cidr} is too wide: the DB's superuser may log in from it and every load balancer's DB port admits it; ` +
              `name the network pulumi up runs from, /${ADMIN_NETWORK_MIN_PREFIX} or narrower`
        : undefined;
}

/** db.passwordRotation: a count per generated password; raising one rotates it. */
function readPasswordRotation(r: Reader, value: unknown): DbConfig["passwordRotation"] | undefined {
    const node = r.object(value, "db.passwordRotation", PASSWORD_ROLES);
    if (!node) {
        return undefined;
    }
    const before = r.problemCount();
    const counts = Object.fromEntries(
        PASSWORD_ROLES.filter(role => node[role] !== undefined).map(role => [
            role,
            r.integer(node, role, "db.passwordRotation", 0, 0, 1_000_000),
        ]),
    );
    return r.problemCount() > before ? undefined : counts;
}

/** An extra apt source; a signing key is required unless it is a local repository marked trusted. */
function readAptRepository(r: Reader, value: unknown, path: string): AptRepository | undefined {
    const node = r.object(value, path, ["url", "suite", "components", "keyUrl", "trusted"]);
    if (!node) {
        return undefined;
    }
    const url = r.string(node, "url", path);
    const suite = r.string(node, "suite", path);
    const keyUrl = r.string(node, "keyUrl", path, "");
    const trusted = r.boolean(node, "trusted", path, false);
    const rawComponents = node.components ?? (suite?.endsWith("/") ? [] : ["main"]);
    const components =
        Array.isArray(rawComponents) && rawComponents.every(c => typeof c === "string" && /^[a-z0-9./_-]+$/i.test(c))
            ? (rawComponents as string[])
            : undefined;
    if (!components) {
        r.problem(`${path}.components`, "expected a list of component names, e.g. [main]");
    }
    const before = r.problemCount();
    if (url !== undefined) {
        const form = /^(https?:\/\/|file:\/)[^\s'"\][]+$/.test(url) ? undefined : "an http(s) or file: URL";
        checkSourceUrl(r, `${path}.url`, url, form, true);
    }
    if (suite !== undefined && !/^[A-Za-z0-9./_-]+$/.test(suite)) {
        r.problem(`${path}.suite`, `"${suite}" is not a suite name (e.g. bookworm-pgdg) or ./ for a flat repository`);
    }
    if (keyUrl) {
        checkSourceUrl(
            r,
            `${path}.keyUrl`,
            keyUrl,
            HTTPS_URL.test(keyUrl)
                ? undefined
                : "an https URL (the key apt checks the repository's signatures against; over http a machine in the middle could replace it)",
            false,
        );
    }
    if (trusted && url !== undefined && !url.startsWith("file:")) {
        r.problem(
            `${path}.trusted`,
            "only a local file: repository may go unsigned; give keyUrl for one reached over the network",
        );
    }
    if (!trusted && !keyUrl) {
        r.problem(
            `${path}.keyUrl`,
            "is required: apt checks the repository's signatures against this key (trusted: true is for a local file: repository only)",
        );
    }
    if (url === undefined || suite === undefined || !components || trusted === undefined || r.problemCount() > before) {
        return undefined;
    }
    return { url: url.replace(/\/+$/, ""), suite, components, keyUrl: keyUrl || undefined, trusted };
}

/**
 * A package source's URL: first no credentials (that message never repeats the URL), then its form
 * (`notA` says what it is not, when it is not), then for a repository's base nothing apt or sed would misread.
 */
function checkSourceUrl(r: Reader, path: string, url: string, notA: string | undefined, repositoryBase: boolean): void {
    const credentials = urlCredentialProblem(url);
    if (credentials) {
        r.problem(path, credentials);
    } else if (notA) {
        r.problem(path, `"${url}" is not ${notA}`);
    } else if (repositoryBase && repositoryBaseProblem(url)) {
        r.problem(path, repositoryBaseProblem(url)!);
    }
}

/**
 * Patroni older than PATRONI_MINIMUM_VERSION can drop acknowledged commits after a site cut, so a
 * DB host whose distribution ships one needs db.patroniRepository (and apt to use it).
 */
function checkPatroniSources(r: Reader, sites: readonly SiteConfig[], hasRepository: boolean): void {
    const outdated = new Map<string, string[]>();
    sites.forEach((site, i) =>
        site.hosts.forEach((host, j) => {
            if (!host.roles.includes("db")) {
                return;
            }
            const platform = platformFor(host.os);
            if (platform.packageManager !== "apt") {
                r.problem(
                    `sites[${i}].hosts[${j}].os`,
                    `db.failover patroni runs on Debian and Ubuntu DB hosts: ${platform.label} ` +
                        "has no etcd and Patroni packages the library knows how to install",
                );
                return;
            }
            const shipped = platform.distributionPatroni;
            if (!hasRepository && (!shipped || compareVersions(shipped, PATRONI_MINIMUM_VERSION) < 0)) {
                const label = `${platform.label} ships ${shipped ? `Patroni ${shipped}` : "no Patroni"}`;
                outdated.set(label, [...(outdated.get(label) ?? []), host.name]);
            }
        }),
    );
    if (outdated.size > 0) {
        const why = [...outdated].map(([label, hosts]) => `${hosts.join(", ")}: ${label}`).join("; ");
        r.problem(
            "db.patroniRepository",
            `is required (${why}). Before ${PATRONI_MINIMUM_VERSION}, a former primary coming back ` +
                "from a site cut can take the leader key from the promoted replica and drop commits it acknowledged. Name an apt " +
                "repository with a newer Patroni: the PostgreSQL project's, or your mirror of it",
        );
    }
}

export function readLoadBalancer(r: Reader, value: unknown): LoadBalancerConfig | undefined {
    const node = r.object(value, "loadBalancer", ["httpPort", "dbPort"]);
    if (!node) {
        return undefined;
    }
    const httpPort = r.integer(node, "httpPort", "loadBalancer", 80, 1, 65535);
    const dbPort = r.integer(node, "dbPort", "loadBalancer", 5433, 1, 65535);
    return httpPort !== undefined && dbPort !== undefined ? { httpPort, dbPort } : undefined;
}

export function readFrontend(r: Reader, value: unknown): FrontendConfig | undefined {
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

export function readLoad(r: Reader, value: unknown): LoadConfig | undefined {
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
