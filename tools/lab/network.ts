/**
 * The lab's L3 network: a router namespace holding one bridge per site (the sites' gateway
 * addresses live on the bridges), one namespace per host with a veth onto its site's bridge, and a
 * veth from the machine's root namespace (db.adminNetwork, where `pulumi up` would run) into the
 * router. The router has no default route and the root namespace gets routes to the site networks
 * only, so nothing in the lab reaches past it and the machine's own default route is never touched.
 */
import { cidrsOverlap } from "../../components/config";
import { check, run, sleep } from "./run";
import { LabState, StateFile } from "./state";
import { Topology } from "./topology";

/** Root-namespace end of the admin veth. */
export const ADMIN_LINK = "zhalab-admin";
const ROUTER_ADMIN_LINK = "zadm";

const ip = (...args: string[]) => check("ip", args);

/** Names of the network namespaces that exist. */
export async function existingNetns(): Promise<Set<string>> {
    const out = await run("ip", ["netns", "list"]);
    return new Set(out.stdout.split("\n").map(l => l.split(/\s+/)[0]).filter(Boolean));
}

async function linkExists(name: string): Promise<boolean> {
    return (await run("ip", ["link", "show", "dev", name])).code === 0;
}

/** Refuses to build over anything the machine already has: a route into a lab network, a namespace of the same name. */
async function preflight(topo: Topology): Promise<void> {
    const routes = JSON.parse((await check("ip", ["-j", "-4", "route", "show", "table", "all"])).stdout || "[]") as { dst: string; dev?: string }[];
    const labNetworks = [...topo.sites.map(s => s.network), topo.admin.network];
    for (const route of routes) {
        if (!route.dst || route.dst === "default" || !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(route.dst)) {
            continue;
        }
        const dst = route.dst.includes("/") ? route.dst : `${route.dst}/32`;
        const clash = labNetworks.find(n => cidrsOverlap(n, dst));
        if (clash && !dst.startsWith("127.")) {
            throw new Error(`this machine already routes ${route.dst}${route.dev ? ` (dev ${route.dev})` : ""}, which overlaps the lab network ${clash}; `
                + "run `npm run lab -- down`, or choose other 198.18.x networks in the lab config");
        }
    }
    const namespaces = await existingNetns();
    for (const ns of [topo.routerNetns, ...topo.hosts.map(h => h.netns)]) {
        if (namespaces.has(ns)) {
            throw new Error(`network namespace ${ns} already exists and is not in the lab's records; remove it (ip netns del ${ns}) if it is a leftover`);
        }
    }
    if (await linkExists(ADMIN_LINK)) {
        throw new Error(`link ${ADMIN_LINK} already exists and is not in the lab's records; remove it (ip link del ${ADMIN_LINK}) if it is a leftover`);
    }
}

/** Builds the network, recording each namespace and link before making it. */
export async function setUpNetwork(topo: Topology, file: StateFile, state: LabState): Promise<void> {
    await preflight(topo);
    const router = topo.routerNetns;
    state.netns.push(router);
    file.write(state);
    await ip("netns", "add", router);
    await ip("-n", router, "link", "set", "lo", "up");
    await check("ip", ["netns", "exec", router, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);

    const bridge = new Map<string, string>();
    topo.sites.forEach((site, i) => {
        bridge.set(site.name, `zb${i}`);
    });
    for (const site of topo.sites) {
        const br = bridge.get(site.name)!;
        await ip("-n", router, "link", "add", br, "type", "bridge");
        await ip("-n", router, "addr", "add", `${site.gateway}/${site.prefixLength}`, "dev", br);
        await ip("-n", router, "link", "set", br, "up");
    }

    // The machine's own foot in the lab: an address in db.adminNetwork and routes to the sites only.
    state.rootLinks.push(ADMIN_LINK);
    file.write(state);
    await ip("link", "add", ADMIN_LINK, "type", "veth", "peer", "name", ROUTER_ADMIN_LINK, "netns", router);
    await ip("addr", "add", `${topo.admin.address}/${topo.admin.prefixLength}`, "dev", ADMIN_LINK);
    await ip("link", "set", ADMIN_LINK, "up");
    await ip("-n", router, "addr", "add", `${topo.admin.routerAddress}/${topo.admin.prefixLength}`, "dev", ROUTER_ADMIN_LINK);
    await ip("-n", router, "link", "set", ROUTER_ADMIN_LINK, "up");
    for (const site of topo.sites) {
        await ip("route", "add", site.network, "via", topo.admin.routerAddress, "dev", ADMIN_LINK);
    }

    for (const [i, host] of topo.hosts.entries()) {
        const site = topo.sites.find(s => s.name === host.site)!;
        state.netns.push(host.netns);
        file.write(state);
        await ip("netns", "add", host.netns);
        // Made inside the host's namespace, so "eth0" never meets the machine's own eth0.
        await ip("-n", host.netns, "link", "add", "eth0", "type", "veth", "peer", "name", `zv${i}`, "netns", router);
        await ip("-n", router, "link", "set", `zv${i}`, "master", bridge.get(site.name)!, "up");
        await ip("-n", host.netns, "link", "set", "lo", "up");
        await ip("-n", host.netns, "addr", "add", `${host.address}/${site.prefixLength}`, "dev", "eth0");
        await ip("-n", host.netns, "link", "set", "eth0", "up");
        // Everything leaves through the router, which knows the lab's networks and nothing else.
        await ip("-n", host.netns, "route", "add", "default", "via", site.gateway);
    }
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
