import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { HOST_FIREWALL, HostFirewallFacts } from "../facts";
import { Host, renderFor } from "../host";
import { FlowSource, HostFlows, sourceAddress } from "./flows";
import { renderRuleset } from "./ruleset";
import { firewallStep, removeFirewall } from "./steps";
import { renderFirewallUnit } from "./unit";

export interface HostFirewallArgs {
    /** The host that loads the table. */
    readonly host: Host;
    /** What it admits (hostFlows), for its ruleset. */
    readonly flows: HostFlows;
    /** Steps that must run before the table is loaded. */
    readonly after?: readonly pulumi.Resource[];
}

/** A source as the facts list it: an address, a network, or "any". */
function factSource(s: FlowSource): string {
    return s.kind === "any" ? "any" : sourceAddress(s);
}

/**
 * HostFirewall loads a host's nftables table, built from the flows its roles need; removing it (the
 * firewall turned off, the host gone) stops the unit and deletes the table.
 */
export class HostFirewall extends pulumi.ComponentResource {
    /** The step that installs and loads the ruleset. */
    public readonly loaded: command.remote.Command;
    /** What it declares: the ports the host admits, from where. */
    public readonly facts: HostFirewallFacts;

    constructor(name: string, args: HostFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        const facts: HostFirewallFacts = {
            host: args.host.config.name,
            site: args.host.config.site,
            admits: args.flows.flows.map(f => ({
                protocol: f.protocol,
                port: f.port,
                services: [...f.services],
                sources: f.sources === "any" ? ["any"] : f.sources.map(factSource),
            })),
        };
        super(HOST_FIREWALL.token, name, facts, opts);
        this.facts = facts;
        this.loaded = args.host.step(
            `${name}-load`,
            {
                script: renderFor(this, () =>
                    firewallStep({ ruleset: renderRuleset(args.flows), unitText: renderFirewallUnit() }),
                ),
                delete: removeFirewall(),
            },
            { parent: this, dependsOn: [...(args.after ?? [])] },
        );
        this.registerOutputs({ loaded: this.loaded.id });
    }
}
