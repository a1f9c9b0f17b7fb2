/**
 * The lab's shape, read from the same stack settings file the plan is made from: sites become
 * subnets behind a router namespace, hosts become containers, db.adminNetwork becomes the machine's
 * own foot in the lab. Only 198.18.0.0/15 is accepted, so the lab can never shadow a real network.
 */
import * as ipaddr from "ipaddr.js";
import { Role, StackConfig, cidrContains, cidrsOverlap, validateStackConfig } from "../../components/config";
import { EnvironmentConfig } from "../offline";
import { LAB_BLOCK, LAB_PREFIX } from "./settings";

export interface LabHost {
    readonly name: string;
    readonly site: string;
    readonly address: string;
    readonly roles: readonly Role[];
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
    readonly admin: { readonly network: string; readonly prefixLength: number; readonly address: string; readonly routerAddress: string };
    readonly routerNetns: string;
    /** The validated stack config (defaults filled in): ports, DB names, primary site. */
    readonly config: StackConfig;
}

/** Structured values arrive as JSON text; plain strings stay as they are (as stacks/config.ts reads them). */
function rawConfig(env: EnvironmentConfig): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [key, text] of Object.entries(env.config)) {
        if (!key.startsWith("zabbix-ha:") || key === "zabbix-ha:sshPrivateKey") {
            continue;
        }
        try {
            raw[key.slice("zabbix-ha:".length)] = JSON.parse(text);
        } catch {
            raw[key.slice("zabbix-ha:".length)] = text;
        }
    }
    return raw;
}

/** Usable addresses of a network, lowest first, skipping the taken ones. */
function freeAddresses(network: string, taken: ReadonlySet<string>, count: number): string[] {
    const [base, bits] = ipaddr.IPv4.parseCIDR(network);
    const first = ipaddr.IPv4.networkAddressFromCIDR(`${base}/${bits}`).toByteArray().reduce((a, b) => a * 256 + b, 0);
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

function inLabBlock(what: string, network: string): void {
    const [, bits] = ipaddr.IPv4.parseCIDR(network);
    if (bits < 15 || !cidrContains(LAB_BLOCK, network.split("/")[0])) {
        throw new Error(`${what} ${network} is outside ${LAB_BLOCK}; the lab uses only that block so it never shadows a real network`);
    }
}

export function topologyOf(env: EnvironmentConfig): Topology {
    // A pattern's own rules (site count, roles, sections) are the stack program's to check when it
    // plans; the lab needs only the shape and the defaults.
    const config = validateStackConfig(rawConfig(env), { secrets: { sshPrivateKey: true }, requirements: { minSites: 1, requiredRoles: [], selfRunDatabase: false } });
    const hostAddresses = new Set(config.sites.flatMap(s => s.hosts.map(h => h.address)));
    const sites = config.sites.map(site => {
        inLabBlock(`site ${site.name}'s network`, site.network);
        const [gateway] = freeAddresses(site.network, hostAddresses, 1);
        return { name: site.name, network: site.network, prefixLength: Number(site.network.split("/")[1]), gateway };
    });
    if (config.zabbix.packageSource !== "distribution") {
        throw new Error(`zabbix.packageSource is ${config.zabbix.packageSource}; the lab's hosts reach only a local repository of Debian's own packages: use packageSource distribution (Zabbix 6.0)`);
    }
    const adminNetwork = config.db.adminNetwork;
    inLabBlock("db.adminNetwork", adminNetwork);
    for (const site of sites) {
        if (cidrsOverlap(site.network, adminNetwork)) {
            throw new Error(`db.adminNetwork ${adminNetwork} overlaps site ${site.name}'s network ${site.network}; the machine needs a network of its own`);
        }
    }
    const [routerAddress, address] = freeAddresses(adminNetwork, new Set(), 2);
    const hosts = config.sites.flatMap(site => site.hosts.map(h => ({
        name: h.name,
        site: site.name,
        address: h.address,
        roles: h.roles,
        sshUser: h.sshUser,
        sshPort: h.sshPort,
        netns: `${LAB_PREFIX}-${h.name}`,
    })));
    for (const h of hosts) {
        if (h.sshUser !== "root") {
            // The base image authorizes the lab's key for root only.
            throw new Error(`host ${h.name}: the lab logs in as root; remove sshUser ${h.sshUser} from the lab config`);
        }
    }
    return {
        sites,
        hosts,
        admin: { network: adminNetwork, prefixLength: Number(adminNetwork.split("/")[1]), address, routerAddress },
        routerNetns: `${LAB_PREFIX}-router`,
        config,
    };
}
