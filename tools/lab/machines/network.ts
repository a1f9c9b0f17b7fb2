/**
 * The lab's L3 network: a router namespace holding one bridge per site (the sites' gateway
 * addresses live on the bridges), one namespace per host with a veth onto its site's bridge, and a
 * veth from the machine's root namespace (db.adminNetwork, where `pulumi up` would run) into the
 * router. The router has no default route and the root namespace gets routes to the site networks
 * only, so nothing in the lab reaches past it and the machine's own default route is never touched.
 */
import { cidrsOverlap } from "../../../components/config";
import { check, run, sleep } from "./run";
import { LabState, StateFile } from "./state";
import { LabHost, LabSite, Topology } from "./topology";

/** Root-namespace end of the admin veth. */
export const ADMIN_LINK = "zhalab-admin";
const ROUTER_ADMIN_LINK = "zadm";

const ip = (...args: string[]) => check("ip", args);

/** Names of the network namespaces that exist. */
export async function existingNetns(): Promise<Set<string>> {
    const out = await run("ip", ["netns", "list"]);
    return new Set(
        out.stdout
            .split("\n")
            .map(l => l.split(/\s+/)[0])
            .filter(Boolean),
    );
}

async function linkExists(name: string): Promise<boolean> {
    return (await run("ip", ["link", "show", "dev", name])).code === 0;
}

/** Refuses a host namespace of the same name as one the lab would make. */
async function preflightHosts(hosts: readonly LabHost[]): Promise<void> {
    const namespaces = await existingNetns();
    for (const ns of hosts.map(h => h.netns)) {
        if (namespaces.has(ns)) {
            throw new Error(
                `network namespace ${ns} already exists and is not in the lab's records; remove it (ip netns del ${ns}) if it is a leftover`,
            );
        }
    }
}

/** Refuses to build over a route the machine already has into one of the lab's networks. */
async function preflight(labNetworks: readonly string[]): Promise<void> {
    const routes = JSON.parse((await check("ip", ["-j", "-4", "route", "show", "table", "all"])).stdout || "[]") as {
        dst: string;
        dev?: string;
    }[];
    for (const route of routes) {
        if (!route.dst || route.dst === "default" || !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(route.dst)) {
            continue;
        }
        const dst = route.dst.includes("/") ? route.dst : `${route.dst}/32`;
        const clash = labNetworks.find(n => cidrsOverlap(n, dst));
        if (clash && !dst.startsWith("127.")) {
            throw new Error(
                `this machine already routes ${route.dst}${route.dev ? ` (dev ${route.dev})` : ""}, which overlaps the lab network ${clash}; ` +
                    "run `npm run lab -- down`, or choose other 198.18.x networks in the lab config",
            );
        }
    }
}

/** Builds the network, recording each namespace and link before making it. */
export async function setUpNetwork(topo: Topology, file: StateFile, state: LabState): Promise<void> {
    await preflight([...topo.sites.map(s => s.network), topo.admin.network]);
    await preflightHosts(topo.hosts);
    if ((await existingNetns()).has(topo.routerNetns)) {
        throw new Error(
            `network namespace ${topo.routerNetns} already exists and is not in the lab's records; remove it (ip netns del ${topo.routerNetns}) if it is a leftover`,
        );
    }
    if (await linkExists(ADMIN_LINK)) {
        throw new Error(
            `link ${ADMIN_LINK} already exists and is not in the lab's records; remove it (ip link del ${ADMIN_LINK}) if it is a leftover`,
        );
    }
    const router = topo.routerNetns;
    state.netns.push(router);
    file.write(state);
    await ip("netns", "add", router);
    await ip("-n", router, "link", "set", "lo", "up");
    await check("ip", ["netns", "exec", router, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);

    // The machine's own foot in the lab: an address in db.adminNetwork and routes to the sites only.
    state.rootLinks.push(ADMIN_LINK);
    file.write(state);
    await ip("link", "add", ADMIN_LINK, "type", "veth", "peer", "name", ROUTER_ADMIN_LINK, "netns", router);
    await ip("addr", "add", `${topo.admin.address}/${topo.admin.prefixLength}`, "dev", ADMIN_LINK);
    await ip("link", "set", ADMIN_LINK, "up");
    await ip(
        "-n",
        router,
        "addr",
        "add",
        `${topo.admin.routerAddress}/${topo.admin.prefixLength}`,
        "dev",
        ROUTER_ADMIN_LINK,
    );
    await ip("-n", router, "link", "set", ROUTER_ADMIN_LINK, "up");
    await addSites(topo, topo.sites, file, state, { checked: true });
    await addHosts(topo, topo.hosts, file, state);
}

/** The lowest `<prefix><n>` not among `taken`. */
function freeName(prefix: string, taken: ReadonlySet<string>): string {
    for (let i = 0; ; i++) {
        if (!taken.has(`${prefix}${i}`)) {
            return `${prefix}${i}`;
        }
    }
}

/** Links in the router namespace. */
async function routerLinks(topo: Topology): Promise<Set<string>> {
    const out = JSON.parse((await check("ip", ["-n", topo.routerNetns, "-j", "link", "show"])).stdout || "[]") as {
        ifname: string;
    }[];
    return new Set(out.map(l => l.ifname));
}

/** A bridge per site in the router (the site's gateway on it) and a route to it from the machine; recorded first. */
export async function addSites(
    topo: Topology,
    sites: readonly LabSite[],
    file: StateFile,
    state: LabState,
    opts: { checked?: boolean } = {},
): Promise<void> {
    if (!opts.checked) {
        await preflight(sites.map(s => s.network));
    }
    const router = topo.routerNetns;
    state.sites ??= [];
    for (const site of sites) {
        const bridge = freeName("zb", new Set([...state.sites.map(s => s.bridge), ...(await routerLinks(topo))]));
        state.sites.push({ name: site.name, network: site.network, bridge });
        file.write(state);
        await ip("-n", router, "link", "add", bridge, "type", "bridge");
        await ip("-n", router, "addr", "add", `${site.gateway}/${site.prefixLength}`, "dev", bridge);
        await ip("-n", router, "link", "set", bridge, "up");
        await ip("route", "add", site.network, "via", topo.admin.routerAddress, "dev", ADMIN_LINK);
    }
}

/** A namespace per host with a veth onto its site's bridge; recorded before it is made. */
export async function addHosts(
    topo: Topology,
    hosts: readonly LabHost[],
    file: StateFile,
    state: LabState,
): Promise<void> {
    await preflightHosts(hosts);
    const router = topo.routerNetns;
    for (const host of hosts) {
        const site = topo.sites.find(s => s.name === host.site)!;
        const bridge = state.sites?.find(s => s.name === host.site)?.bridge;
        if (!bridge) {
            throw new Error(`host ${host.name}: its site ${host.site} has no bridge in the lab's records`);
        }
        const link = freeName("zv", await routerLinks(topo));
        state.netns.push(host.netns);
        file.write(state);
        await ip("netns", "add", host.netns);
        // Made inside the host's namespace, so "eth0" never meets the machine's own eth0.
        await ip("-n", host.netns, "link", "add", "eth0", "type", "veth", "peer", "name", link, "netns", router);
        await ip("-n", router, "link", "set", link, "master", bridge, "up");
        await ip("-n", host.netns, "link", "set", "lo", "up");
        await ip("-n", host.netns, "addr", "add", `${host.address}/${site.prefixLength}`, "dev", "eth0");
        await ip("-n", host.netns, "link", "set", "eth0", "up");
        // Everything leaves through the router, which knows the lab's networks and nothing else.
        await ip("-n", host.netns, "route", "add", "default", "via", site.gateway);
    }
}

/** Removes a host's namespace (its veth goes with it) and its record. */
export async function removeHostNetwork(netns: string, file: StateFile, state: LabState): Promise<void> {
    if ((await existingNetns()).has(netns)) {
        await ip("netns", "del", netns);
    }
    state.netns = state.netns.filter(n => n !== netns);
    file.write(state);
}

/** Removes a site's bridge and the machine's route to it, then its record. */
export async function removeSite(
    topo: Pick<Topology, "routerNetns">,
    name: string,
    file: StateFile,
    state: LabState,
): Promise<void> {
    const site = state.sites?.find(s => s.name === name);
    if (!site) {
        return;
    }
    await run("ip", ["-n", topo.routerNetns, "link", "del", site.bridge]);
    await run("ip", ["route", "del", site.network]);
    state.sites = state.sites!.filter(s => s !== site);
    file.write(state);
}

/** Removes the recorded namespaces (their veths and bridges go with them) and root links. */
export async function tearDownNetwork(state: LabState, log: (line: string) => void): Promise<string[]> {
    const problems: string[] = [];
    const namespaces = await existingNetns();
    for (const ns of [...state.netns].reverse()) {
        if (namespaces.has(ns)) {
            const out = await run("ip", ["netns", "del", ns]);
            if (out.code !== 0) {
                problems.push(`ip netns del ${ns}: ${out.stderr.trim()}`);
            } else {
                log(`removed network namespace ${ns}`);
            }
        }
    }
    for (const link of state.rootLinks) {
        // Its peer lived in the router namespace, so it is usually gone already.
        if (await linkExists(link)) {
            const out = await run("ip", ["link", "del", link]);
            // The kernel may have been removing it with the namespace at that very moment.
            if (out.code !== 0 && (await sleep(500), await linkExists(link))) {
                problems.push(`ip link del ${link}: ${out.stderr.trim()}`);
            }
        }
    }
    return problems;
}
