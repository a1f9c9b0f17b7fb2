/**
 * Reader of the db section: where the primary is and how it replicates and fails over, the names
 * Zabbix's database and owner role take, the network the superuser may log in from, Patroni's
 * package source, and the generated passwords' rotation counts.
 */
import { PATRONI_MINIMUM_VERSION, POSTGRES_DEFAULT_PORT, compareVersions, platformFor } from "../platform";
import { ADMIN_ROLE, CHECK_ROLE, REPLICATION_ROLE } from "../postgres/roles";
import { cidrProblem } from "./network";
import { readAptRepository } from "./packageSources";
import { Reader } from "./reader";
import { DbConfig, PASSWORD_ROLES, SiteConfig } from "./types";

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
