/**
 * A Mermaid flowchart of one pattern's topology, drawn the same way for every pattern: users on
 * top, one box per site that has hosts (in config order), and an edge for each path the topology
 * implies. No edge joins two boxes (GitHub draws none); self-edges are left out (the host's label
 * says what it carries).
 */
import { InstanceTopology, Placement, Topology } from "../../model";

/** How to read the diagrams, once per report. */
export const DIAGRAM_LEGEND =
    "Diagrams: solid arrows carry requests (users to an entry point, an entry point to its site's frontends, " +
    "Zabbix servers and frontends along their DB path); dotted arrows are standby paths (a replica streaming from the primary, DRBD, " +
    "a load balancer's backup frontends, the VIP's next node); thick arrows copy configuration; o--o joins etcd members; " +
    "plain lines attach each site to the link between sites; (L2) marks a site with an L2 segment, the only place a VIP can live.";

type Style = "request" | "standby" | "sync" | "consensus" | "attachment";
const ARROWS: Record<Style, string> = {
    request: "-->",
    standby: "-.->",
    sync: "==>",
    consensus: "o--o",
    attachment: "---",
};

export function mermaidId(text: string): string {
    return text.replace(/[^A-Za-z0-9_]/g, "_");
}

const USERS = "users";
const BETWEEN_SITES = "between_sites";
const vipId = (site: string) => `vip_${site}`;

/** What each host carries, in the order the topology lists hosts (pseudo-hosts such as a managed DB last). */
function hostLabels(topology: Topology): Map<string, { site: string; roles: string[] }> {
    const hosts = new Map<string, { site: string; roles: string[] }>();
    const tag = (p: Placement, role: string) => {
        const entry = hosts.get(p.host) ?? { site: p.site, roles: [] };
        if (!entry.roles.includes(role)) {
            entry.roles.push(role);
        }
        hosts.set(p.host, entry);
    };
    // Every deployed host first, so each site's hosts keep the config's order.
    topology.hosts.forEach(h => hosts.set(h.host, { site: h.site, roles: [] }));
    const members = new Set(topology.instances.flatMap(i => (i.database.quorum ?? []).map(m => m.host)));
    for (const i of topology.instances) {
        const server = i.serverFailover === "native-ha" && i.servers.length > 1 ? "HA node" : "Zabbix server";
        i.servers.forEach(s => tag(s, server));
        tag(i.database.primary, "DB primary");
        i.database.standbys.forEach(s =>
            tag(s, i.database.failover === "cluster-manager" ? "DRBD peer" : "DB standby"),
        );
        if (i.database.pair) {
            tag(i.database.pair.peer, "DRBD peer");
        }
        i.frontends.forEach(f => tag(f, "frontend"));
        i.loadBalancers.forEach(l => tag(l, "load balancer"));
    }
    for (const h of topology.hosts.filter(x => x.roles.includes("witness"))) {
        tag(h, members.has(h.host) ? "witness" : "witness, unused (no consensus store)");
    }
    members.forEach(m => hosts.get(m) && tag({ host: m, site: hosts.get(m)!.site }, "etcd"));
    return new Map([...hosts].filter(([, h]) => h.roles.length > 0));
}

/** The edges one instance implies, in a fixed order: entry, UI, DB path, replication, consensus. */
function instanceEdges(
    i: InstanceTopology,
    add: (from: string, style: Style, to: string, label?: string) => void,
): void {
    const primary = i.database.primary.host;
    for (const entry of i.entryPoints) {
        if (entry.kind === "vip") {
            add(USERS, "request", vipId(entry.site));
            add(vipId(entry.site), "request", primary, "active node");
            (i.clusterManager?.nodes ?? [])
                .filter(n => n.host !== primary)
                .forEach(n => add(vipId(entry.site), "standby", n.host, "after failover"));
            continue;
        }
        add(USERS, "request", entry.host);
        i.frontends.forEach(f =>
            add(
                entry.host,
                f.site === entry.site ? "request" : "standby",
                f.host,
                f.site === entry.site ? "UI" : "backup",
            ),
        );
    }
    for (const client of [...i.servers, ...i.frontends]) {
        if (i.dbAccess === "site-load-balancer") {
            const lb = i.loadBalancers.find(l => l.site === client.site);
            if (lb) {
                add(client.host, "request", lb.host, "DB");
            }
        } else if (i.dbAccess === "managed-endpoint") {
            add(client.host, "request", primary, "DB");
        }
    }
    if (i.dbAccess === "site-load-balancer") {
        i.loadBalancers.forEach(lb => add(lb.host, "request", primary, "primary only"));
    }
    const block = i.database.failover === "cluster-manager" || i.database.replication === "block-sync";
    i.database.standbys.forEach(s => add(s.host, "standby", primary, block ? "DRBD" : "streams from"));
    if (i.database.pair) {
        add(i.database.pair.peer.host, "standby", primary, "DRBD");
    }
    const members = i.database.quorum ?? [];
    members.forEach((m, k) => {
        const next = members[(k + 1) % members.length];
        // A ring: two members need one link, three or more close it.
        if (members.length > 2 || k === 0) {
            add(m.host, "consensus", next.host, "etcd");
        }
    });
}

/** Sites where the pattern puts nothing: the diagram leaves them out, the reader is told. */
export function sitesWithoutHosts(topology: Topology): string[] {
    const used = new Set([...hostLabels(topology).values()].map(h => h.site));
    return topology.sites.filter(s => !used.has(s.name)).map(s => s.name);
}

/** A Mermaid flowchart of a pattern's sites, hosts and the paths between them. */
export function mermaidDiagram(topology: Topology): string {
    const hosts = hostLabels(topology);
    const lines = ["flowchart TB", `  ${USERS}(("users"))`];
    const sites = topology.sites.filter(s => [...hosts.values()].some(h => h.site === s.name));
    for (const site of sites) {
        lines.push(`  subgraph ${mermaidId(`site_${site.name}`)}["site ${site.name}${site.l2Segment ? " (L2)" : ""}"]`);
        for (const [host, h] of hosts) {
            if (h.site === site.name) {
                lines.push(`    ${mermaidId(host)}["${host}<br/>${h.roles.join(", ")}"]`);
            }
        }
        for (const vip of new Set(
            topology.instances.flatMap(i =>
                i.entryPoints.flatMap(e => (e.kind === "vip" && e.site === site.name ? [e.site] : [])),
            ),
        )) {
            lines.push(`    ${vipId(vip)}{{"VIP"}}`);
        }
        lines.push("  end");
    }
    if (sites.length > 1) {
        lines.push(`  ${BETWEEN_SITES}(["link between sites, L3"])`);
    }
    const edges = new Set<string>();
    const add = (from: string, style: Style, to: string, label?: string) => {
        if (from !== to) {
            edges.add(`  ${mermaidId(from)} ${ARROWS[style]}${label ? `|"${label}"|` : ""} ${mermaidId(to)}`);
        }
    };
    topology.instances.forEach(i => instanceEdges(i, add));
    const sync = topology.configSync;
    if (sync) {
        const lbIn = (site: string) => topology.instances.flatMap(i => i.loadBalancers).find(l => l.site === site);
        const source = lbIn(sync.source);
        sync.targets
            .map(lbIn)
            .forEach(target => source && target && add(source.host, "sync", target.host, "config sync"));
    }
    if (sites.length > 1) {
        // Each site attaches to the link through its load balancer, or its first host.
        for (const site of sites) {
            const here = [...hosts].filter(([, h]) => h.site === site.name);
            const anchor = here.find(([, h]) => h.roles.includes("load balancer")) ?? here[0];
            add(anchor[0], "attachment", BETWEEN_SITES);
        }
    }
    return [...lines, ...edges].join("\n");
}
