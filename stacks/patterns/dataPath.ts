/**
 * The data path in front of any pattern's servers: a ZabbixProxy on every deployed `proxy` host, in
 * its proxy group, reporting to the installation of its site; agent 2 on every deployed `agent` host,
 * through its group's proxies (or to the servers where there are no proxies). Built from the
 * topology the pattern made, never from its name; buffers sized from the load and from the longest
 * automatic recovery the failure model predicts for that topology.
 */
import * as pulumi from "@pulumi/pulumi";
import { PlacedHost, ProxyGroupConfig, StackConfig, agentGroup, hostsWithRole } from "../../components/config";
import { Host } from "../../components/host";
import { ZabbixAgent, ZabbixProxy, proxyGroupFailoverSeconds } from "../../components/proxy";
import { sizeAgent, sizeProxy } from "../../components/sizing";
import { Frontend, ZabbixObjects, ZabbixServerCluster } from "../../components/zabbix";
import { DEFAULT_TIMINGS, DataPathDesign, StackDesign, Timings, evaluateAll, topologyOf } from "../../model";

/** An installation as the data path needs it: the sites it serves, its servers and where its API is. */
export interface DataPathInstance {
    /** Its name in the topology, which marks the Zabbix objects made in it. */
    readonly name: string;
    readonly sites: readonly string[];
    readonly servers: ZabbixServerCluster;
    /** Its frontends: the objects step runs on one of them, after all of them. */
    readonly frontends: readonly Frontend[];
    /** The UI through each site's entry point (a load balancer, or a pair's VIP). */
    readonly uiUrls: Record<string, string>;
}

/** The longest automatic recovery the model predicts for the design (0 when none recovers by itself). */
export function longestAutomaticRecoverySeconds(design: StackDesign, timings: Timings): number {
    const outcomes = evaluateAll(topologyOf(design), timings).map(e => e.outcome);
    return Math.ceil(
        Math.max(0, ...outcomes.filter(o => o.recovery === "automatic").map(o => o.recoverySeconds?.max ?? 0)),
    );
}

/**
 * The installation a site's proxies and agents report to: its own, or the stack's only one. Decided
 * here alone: each proxy and agent declares it (its facts' `installation`), and the model, the
 * objects step and the lab read that.
 */
function instanceFor(instances: readonly DataPathInstance[], site: string): DataPathInstance {
    const found = instances.find(i => i.sites.includes(site)) ?? (instances.length === 1 ? instances[0] : undefined);
    if (!found) {
        // Validation keeps this from happening: a per-site pattern gives every service site an installation.
        throw new Error(`no Zabbix installation serves site ${site}`);
    }
    return found;
}

/** The model's timings from the checked config's model section, else the defaults. */
function timingsOf(config: StackConfig): Timings {
    return (config as { sections?: { model?: { timings?: Timings } } }).sections?.model?.timings ?? DEFAULT_TIMINGS;
}

/**
 * Builds the proxies and agents of the deployed hosts; returns the design with its data path (the
 * design as it was when the stack has neither).
 */
export function withDataPath(
    config: StackConfig,
    hosts: ReadonlyMap<string, Host>,
    design: StackDesign,
    instances: readonly DataPathInstance[],
    superAdminPassword: pulumi.Input<string>,
): StackDesign {
    const deployed = (role: "proxy" | "agent") => hostsWithRole(config, role).filter(h => hosts.has(h.name));
    const proxies = deployed("proxy");
    const agents = deployed("agent");
    if (proxies.length === 0 && agents.length === 0) {
        return design;
    }
    const serverOutage = longestAutomaticRecoverySeconds(design, timingsOf(config));
    const groups = config.zabbix.proxyGroups
        .map(g => ({ ...g, proxies: g.proxies.filter(name => hosts.has(name)) }))
        .filter(g => g.proxies.length > 0);
    const placed = (name: string) => proxies.find(p => p.name === name)!;
    const port = config.zabbix.listenPort;
    const built = groups.flatMap(group =>
        group.proxies.map(name => {
            const instance = instanceFor(instances, placed(name).site);
            return new ZabbixProxy(`${name}-proxy`, {
                host: hosts.get(name)!,
                installation: instance.name,
                server: instance.servers.agentSettings.ServerActive,
                listenPort: port,
                group,
                sizing: sizeProxy(
                    config.load,
                    { groupProxies: group.proxies.length, allProxies: proxies.length },
                    serverOutage,
                ),
                outageSeconds: serverOutage,
                packageSource: config.zabbix.packageSource,
            });
        }),
    );
    const agentsBuilt = agents.map(agent => buildAgent(config, hosts, agent, groups, proxies, instances, serverOutage));
    const objects = instances.flatMap(instance => {
        const own = {
            proxies: built.filter(p => p.facts.installation === instance.name),
            agents: agentsBuilt.filter(a => a.facts.installation === instance.name),
        };
        const made =
            own.proxies.length + own.agents.length > 0
                ? buildObjects(config, hosts, instance, own, superAdminPassword)
                : undefined;
        return made ? [made.facts] : [];
    });
    const dataPath: DataPathDesign = {
        proxyGroups: groups.map(g => ({
            name: g.name,
            proxies: [...g.proxies],
            failoverDelaySeconds: g.failoverDelaySeconds,
            minOnline: g.minOnline,
        })),
        proxies: built.map(p => p.facts),
        agents: agentsBuilt.map(a => a.facts),
        objects,
    };
    return { ...design, dataPath };
}

/**
 * Agent 2 on one monitored host: through its group's proxies, its buffers outlasting the group's
 * failover and the longest recovery of the servers; to its installation's servers without proxies.
 */
function buildAgent(
    config: StackConfig,
    hosts: ReadonlyMap<string, Host>,
    agent: PlacedHost,
    groups: readonly ProxyGroupConfig[],
    proxies: readonly PlacedHost[],
    instances: readonly DataPathInstance[],
    serverOutage: number,
): ZabbixAgent {
    const group = agentGroup(agent, groups, proxies);
    const port = config.zabbix.listenPort;
    const instance = instanceFor(instances, agent.site);
    const serverActive = group
        ? group.proxies.map(name => `${proxies.find(p => p.name === name)!.address}:${port}`).join(";")
        : instance.servers.agentSettings.ServerActive;
    const outage = Math.max(serverOutage, group ? proxyGroupFailoverSeconds(group.failoverDelaySeconds) : 0);
    return new ZabbixAgent(`${agent.name}-agent`, {
        host: hosts.get(agent.name)!,
        installation: instance.name,
        serverActive,
        ...(group ? { group: group.name } : {}),
        sizing: sizeAgent(config.load, outage),
        outageSeconds: outage,
        packageSource: config.zabbix.packageSource,
        zabbixVersion: config.zabbix.version,
    });
}

/**
 * The Zabbix objects of one installation's proxies and agents, made by a step on one of its frontend
 * hosts: the first by name whose site is not lost (a lost site's steps change nothing), talking to
 * the API at that site's entry point (its load balancer, or a pair's VIP), which answers from
 * whichever frontend is up and is the only UI address a pair's standby node reaches. It runs after
 * every frontend of the installation, and so after the schema step that set the Super Admin's password.
 */
function buildObjects(
    config: StackConfig,
    hosts: ReadonlyMap<string, Host>,
    instance: DataPathInstance,
    own: { readonly proxies: readonly ZabbixProxy[]; readonly agents: readonly ZabbixAgent[] },
    superAdminPassword: pulumi.Input<string>,
): ZabbixObjects | undefined {
    const runners = instance.frontends
        .map(f => hosts.get(f.facts.host)!)
        .sort((a, b) => Number(a.lost) - Number(b.lost) || a.config.name.localeCompare(b.config.name));
    const runner = runners[0];
    if (!runner) {
        return undefined;
    }
    const entrySites = Object.keys(instance.uiUrls).sort();
    const site = instance.uiUrls[runner.config.site] !== undefined ? runner.config.site : entrySites[0];
    const groups = new Set(own.proxies.map(p => p.facts.group));
    // By name, so that an operator reordering the config's sites or hosts plans no change.
    const byName = <T extends { readonly name: string }>(list: readonly T[]) =>
        [...list].sort((a, b) => a.name.localeCompare(b.name));
    return new ZabbixObjects(`${instance.name}-objects`, {
        installation: instance.name,
        host: runner,
        apiUrl: `${instance.uiUrls[site]}api_jsonrpc.php`,
        superAdminPassword,
        zabbixVersion: config.zabbix.version,
        proxyGroups: byName(config.zabbix.proxyGroups.filter(g => groups.has(g.name))),
        proxies: byName(
            own.proxies.map(p => ({
                name: p.facts.host,
                group: p.facts.group,
                address: p.facts.address,
                port: config.zabbix.listenPort,
                psk: p.psk,
            })),
        ),
        agents: byName(
            own.agents.map(a => ({
                name: a.facts.host,
                ...(a.facts.group !== undefined ? { group: a.facts.group } : {}),
                psk: a.psk,
            })),
        ),
        checkIntervalSeconds: config.zabbix.dataPathCheckSeconds,
        after: instance.frontends.map(f => f.configured),
    });
}
