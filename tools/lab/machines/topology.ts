/**
 * The lab's shape, read from the same stack settings file the plan is made from: sites become
 * subnets behind a router namespace, hosts become containers, db.adminNetwork becomes the machine's
 * own foot in the lab. Only 198.18.0.0/15 is accepted, so the lab can never shadow a real network.
 */
import * as ipaddr from "ipaddr.js";
import {
    ConfigError,
    DbConfig,
    OS_FAMILIES,
    OsFamily,
    Reader,
    Role,
    SET_AS_SECRET,
    SiteConfig,
    StackConfig,
    ZabbixConfig,
    cidrContains,
    cidrsOverlap,
    readDb,
    readSites,
    readZabbix,
} from "../../../components/config";
import { checkStackConfig, rawFromSettings } from "../../../stacks/config";
import { EnvironmentConfig, errorLines, planEnvironment } from "../../offline";
import { labSuite } from "./image";
import { LAB_BLOCK, LAB_PREFIX } from "./settings";

export interface LabHost {
    readonly name: string;
    readonly site: string;
    readonly address: string;
    readonly roles: readonly Role[];
    /** The operating system the config says it runs (the lab's hosts are Debian 12 whatever it says). */
    readonly os: OsFamily;
    readonly sshUser: string;
    readonly sshPort: number;
    /** Network namespace the host's container lives in. */
    readonly netns: string;
}

export interface LabSite {
    readonly name: string;
    readonly network: string;
    readonly prefixLength: number;
    /** The router's address on the site's bridge: the hosts' default gateway. */
    readonly gateway: string;
}

export interface Topology {
    readonly sites: readonly LabSite[];
    readonly hosts: readonly LabHost[];
    /** The machine's own network (db.adminNetwork), with its address and the router's. */
    readonly admin: {
        readonly network: string;
        readonly prefixLength: number;
        readonly address: string;
        readonly routerAddress: string;
    };
    readonly routerNetns: string;
    /** The validated stack config (defaults filled in): ports, DB names, primary site. */
    readonly config: StackConfig;
}

/** Usable addresses of a network, lowest first, skipping the taken ones. */
function freeAddresses(network: string, taken: ReadonlySet<string>, count: number): string[] {
    const [base, bits] = ipaddr.IPv4.parseCIDR(network);
    const first = ipaddr.IPv4.networkAddressFromCIDR(`${base}/${bits}`)
        .toByteArray()
        .reduce((a, b) => a * 256 + b, 0);
    const size = 2 ** (32 - bits);
    const found: string[] = [];
    for (let i = 1; i < size - 1 && found.length < count; i++) {
        const n = first + i;
        const address = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
        if (!taken.has(address)) {
            found.push(address);
        }
    }
    if (found.length < count) {
        throw new Error(`${network} has no free address left for the lab's router`);
    }
    return found;
}

/** Whether a network lies inside the lab's block; a problem line if not. */
function outsideLabBlock(what: string, network: string): string[] {
    const [, bits] = ipaddr.IPv4.parseCIDR(network);
    return bits < 15 || !cidrContains(LAB_BLOCK, network.split("/")[0])
        ? [
              `${what} ${network} is outside ${LAB_BLOCK}; the lab uses only that block so it never shadows a real network`,
          ]
        : [];
}

/**
 * What the lab itself cannot play, each problem on its own line. It judges the sections that read
 * cleanly (a section with problems of its own is the plan's to report), so a broken config still
 * gets all of the lab's problems at once.
 */
function labProblems(config: {
    readonly sites: readonly SiteConfig[];
    readonly zabbix?: Omit<ZabbixConfig, "proxyGroups">;
    readonly db?: DbConfig;
}): string[] {
    const adminNetwork = config.db?.adminNetwork;
    return [
        ...config.sites.flatMap(site => outsideLabBlock(`sites: site ${site.name}'s network`, site.network)),
        ...(config.zabbix && config.zabbix.packageSource !== "distribution"
            ? [
                  `zabbix.packageSource: ${config.zabbix.packageSource}; the lab's hosts reach only a local repository of Debian's own packages: use packageSource distribution (Zabbix 6.0 on Debian 12, 7.0 on Debian 13)`,
              ]
            : []),
        // The lab builds its hosts with debootstrap from this machine's Debian mirrors.
        ...config.sites.flatMap(site =>
            site.hosts
                .filter(h => labSuite(h.os) === undefined)
                .map(
                    h =>
                        `host ${h.name}: os ${h.os}; the lab boots Debian hosts only (${OS_FAMILIES.filter(os => labSuite(os)).join(", ")})`,
                ),
        ),
        ...(adminNetwork ? outsideLabBlock("db.adminNetwork:", adminNetwork) : []),
        ...config.sites
            .filter(site => adminNetwork && cidrsOverlap(site.network, adminNetwork))
            .map(
                site =>
                    `db.adminNetwork: ${adminNetwork} overlaps site ${site.name}'s network ${site.network}; the machine needs a network of its own`,
            ),
        // The base image authorizes the lab's key for root only.
        ...config.sites.flatMap(site =>
            site.hosts
                .filter(h => h.sshUser !== "root")
                .map(h => `host ${h.name}: the lab logs in as root; remove sshUser ${h.sshUser} from the lab config`),
        ),
    ];
}

/** The sections the lab judges, as far as they read cleanly; their own problems are left to the plan. */
function readableSections(env: EnvironmentConfig): Parameters<typeof labProblems>[0] {
    const raw = rawFromSettings(env.config);
    const r = new Reader([]);
    const sites = readSites(r, raw.sites, 1);
    return { sites, zabbix: readZabbix(r, raw.zabbix, sites), db: readDb(r, raw.db, sites, false) };
}

/**
 * The config read exactly as the stack program reads it (its raw values, then every section checked,
 * the model's included); a pattern's own rules (site count, roles, sections) are the plan's to check.
 */
function labShape(env: EnvironmentConfig): StackConfig {
    return checkStackConfig(rawFromSettings(env.config), {
        // The lab hands its own key over as a secret when it plans (replay/plan.ts).
        secrets: { sshPrivateKey: SET_AS_SECRET },
        requirements: { minSites: 1, requiredRoles: [], selfRunDatabase: false },
    });
}

/** One error that names the file and lists every problem. */
function problemsError(file: string, problems: readonly string[]): Error {
    return new Error(
        `${file}: cannot run the lab from it (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
            problems.map(p => `  - ${p}`).join("\n"),
    );
}

/**
 * Checks a lab config before anything is built: the stack program's own validation for the pattern
 * (exactly as the plan runs it, every problem with its path) and what the lab itself cannot play.
 * Throws one error naming the file and listing every problem.
 */
export async function checkLabConfig(env: EnvironmentConfig, pattern?: string): Promise<void> {
    const plan = await planEnvironment(env, {
        placeholderSecrets: true,
        overrides: pattern ? { "zabbix-ha:pattern": pattern } : {},
    });
    const problems = [...(plan.error ? errorLines(plan.error) : []), ...labProblems(readableSections(env))];
    if (problems.length > 0) {
        throw problemsError(env.file, problems);
    }
}

/** The lab's shape from a stack settings file; throws one error naming the file and every problem. */
export function topologyOf(env: EnvironmentConfig): Topology {
    let config: StackConfig;
    try {
        config = labShape(env);
    } catch (err) {
        throw err instanceof ConfigError ? problemsError(env.file, errorLines(err)) : err;
    }
    const problems = labProblems(config);
    if (problems.length > 0) {
        throw problemsError(env.file, problems);
    }
    const hostAddresses = new Set(config.sites.flatMap(s => s.hosts.map(h => h.address)));
    const sites = config.sites.map(site => {
        const [gateway] = freeAddresses(site.network, hostAddresses, 1);
        return { name: site.name, network: site.network, prefixLength: Number(site.network.split("/")[1]), gateway };
    });
    const adminNetwork = config.db.adminNetwork;
    const [routerAddress, address] = freeAddresses(adminNetwork, new Set(), 2);
    const hosts = config.sites.flatMap(site =>
        site.hosts.map(h => ({
            name: h.name,
            site: site.name,
            address: h.address,
            roles: h.roles,
            os: h.os,
            sshUser: h.sshUser,
            sshPort: h.sshPort,
            netns: `${LAB_PREFIX}-${h.name}`,
        })),
    );
    return {
        sites,
        hosts,
        admin: { network: adminNetwork, prefixLength: Number(adminNetwork.split("/")[1]), address, routerAddress },
        routerNetns: `${LAB_PREFIX}-router`,
        config,
    };
}
