/**
 * The Zabbix servers themselves: failover delay, agents' server lists, sizing for the load.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { FAILOVER_DELAY_MAX_SECONDS, FAILOVER_DELAY_MIN_SECONDS } from "../../components/config/zabbix";
import { hardwareTier, sizeServer } from "../../components/sizing";
import { HOST, RESOURCE_TYPES, SERVER_CLUSTER, factsOf, nameOf, validateFactsOf } from "./facts";

export const failoverDelayRange: ResourceValidationPolicy = {
    name: "failover-delay-range",
    description: "The Zabbix HA failover delay is within Zabbix's range, 10 s to 15 min.",
    enforcementLevel: "mandatory",
    validateResource: validateFactsOf(SERVER_CLUSTER, (facts, args, report) => {
        const delay = facts.failoverDelaySeconds;
        if (!(delay >= FAILOVER_DELAY_MIN_SECONDS && delay <= FAILOVER_DELAY_MAX_SECONDS)) {
            report(
                `Failover delay ${delay} s of "${args.name}" is outside Zabbix's range (10 s to 15 min): set failoverDelay within it.`,
            );
        }
    }),
};

export const failoverDelayAdvisory: ResourceValidationPolicy = {
    name: "failover-delay-short",
    description: "An HA cluster's failover delay stays at 60 s or less, so a crash is covered within about a minute.",
    enforcementLevel: "advisory",
    validateResource: validateFactsOf(SERVER_CLUSTER, (facts, args, report) => {
        if (facts.failover === "native-ha" && facts.failoverDelaySeconds > 60) {
            report(
                `Failover delay ${facts.failoverDelaySeconds} s of "${args.name}": a crashed active node is replaced only after ` +
                    `about ${facts.failoverDelaySeconds + 10} s. The study wanted well under the old cluster's five minutes; consider 60 s or less.`,
            );
        }
    }),
};

/** Node addresses an agent setting lists, grouped: "," separates servers, ";" the nodes of one. */
export function serverGroups(value: string): string[][] {
    return value.split(",").map(group =>
        group
            .split(";")
            .map(entry => entry.trim().replace(/:\d+$/, ""))
            .filter(Boolean),
    );
}

export const agentServerLists: StackValidationPolicy = {
    name: "agent-server-lists",
    description: 'Agents\' and proxies\' ServerActive name the nodes of one HA cluster separated by ";", not ",".',
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const clusters = factsOf(args.resources, SERVER_CLUSTER).filter(c => c.facts.failover === "native-ha");
        const check = (value: string, where: string, urn: string) => {
            const groups = serverGroups(value);
            for (const { resource, facts } of clusters) {
                const addresses = new Set(facts.nodes.map(n => n.address));
                const holding = groups.filter(g => g.some(a => addresses.has(a)));
                if (holding.length > 1) {
                    report(
                        `${where}: ServerActive=${value} separates nodes of HA cluster "${nameOf(resource)}" with ",", so agents ` +
                            'treat them as separate servers and send to each (duplicated data, errors from the standby). Use ";" between them.',
                        urn,
                    );
                }
            }
        };
        for (const { resource, facts } of clusters) {
            check(facts.agentSettings.ServerActive, `"${nameOf(resource)}"'s agent settings`, resource.urn);
        }
        for (const command of args.resources.filter(r => r.type === RESOURCE_TYPES.command)) {
            for (const match of String(command.props.create ?? "").matchAll(/^ServerActive=(.*)$/gm)) {
                check(match[1], `the agent configuration sent by ${nameOf(command)}`, command.urn);
            }
        }
    },
};

export const sizingFitsLoad: ResourceValidationPolicy = {
    name: "sizing-fits-load",
    description: "Zabbix server caches and process counts fit the expected load.",
    enforcementLevel: "mandatory",
    validateResource: validateFactsOf(SERVER_CLUSTER, (facts, args, report) => {
        const needed = sizeServer(facts.load) as unknown as Record<string, number>;
        const short = Object.entries(needed).filter(
            ([key, value]) => key !== "nvps" && (facts.sizing[key] ?? 0) < value,
        );
        if (short.length > 0) {
            report(
                `"${args.name}" is sized below its load (${facts.load.items} items every ${facts.load.updateIntervalSeconds} s): ` +
                    short.map(([key, value]) => `${key} ${facts.sizing[key]} < ${value}`).join(", "),
            );
        }
    }),
};

export const serverHostHardware: StackValidationPolicy = {
    name: "server-host-hardware",
    description:
        "Zabbix server hosts meet Zabbix's hardware table for the expected load (where their size is configured).",
    enforcementLevel: "advisory",
    validateStack: (args, report) => {
        const hosts = factsOf(args.resources, HOST);
        for (const { facts } of factsOf(args.resources, SERVER_CLUSTER)) {
            const tier = hardwareTier(facts.load);
            for (const node of facts.nodes) {
                const host = hosts.find(h => h.facts.host === node.host);
                const { cpus, memoryGiB } = host?.facts ?? {};
                if (
                    host &&
                    ((cpus !== undefined && cpus < tier.cpuCores) ||
                        (memoryGiB !== undefined && memoryGiB < tier.memoryGiB))
                ) {
                    report(
                        `${node.host} has ${cpus ?? "?"} cores and ${memoryGiB ?? "?"} GiB; Zabbix's ${tier.name} tier (${facts.load.items} items) ` +
                            `suggests ${tier.cpuCores} cores and ${tier.memoryGiB} GiB.`,
                        host.resource.urn,
                    );
                }
            }
        }
    },
};
