import * as pulumi from "@pulumi/pulumi";
import { SiteConfig, ZabbixConfig } from "../config/types";
import { SITE, SiteFacts } from "../facts";
import { Host, HostTlsArgs } from "./Host";
import { ExtraRepository } from "./render";

/**
 * SiteArgs describe one data centre: an L3 network and the hosts in it.
 */
export interface SiteArgs {
    /** The site as validated from the stack configuration. */
    readonly site: SiteConfig;
    /** SSH private key for every host of the site; a Pulumi secret. */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** Zabbix series and package source, for the hosts' package steps. */
    readonly zabbix: ZabbixConfig;
    /** Extra packages per host name, which a pattern adds beyond the roles'. */
    readonly extraPackages?: Readonly<Record<string, readonly string[]>>;
    /** Extra apt repositories per host name, which a pattern adds before the packages install. */
    readonly extraRepositories?: Readonly<Record<string, readonly ExtraRepository[]>>;
    /** Each host's key and certificate from the stack's PKI, by host name. */
    readonly tls: Readonly<Record<string, HostTlsArgs>>;
    /** Whether the hosts load the host firewall (their package steps install nftables). */
    readonly firewall?: boolean;
}

/**
 * Site groups the hosts of one data centre. Sites are joined at L3 only, so nothing here spans
 * two sites; the site is the unit that fails when its network or uplink goes down.
 */
export class Site extends pulumi.ComponentResource {
    /** The validated site configuration. */
    public readonly config: SiteConfig;
    /** The site's hosts by host name. */
    public readonly hosts: Readonly<Record<string, Host>>;

    constructor(name: string, args: SiteArgs, opts?: pulumi.ComponentResourceOptions) {
        // Declared facts (the component's inputs): the policy pack reads them.
        const facts: SiteFacts = {
            site: args.site.name,
            network: args.site.network,
            l2Segment: args.site.l2Segment,
            lost: args.site.lost,
        };
        super(SITE.token, name, facts, opts);
        this.config = args.site;
        const hosts: Record<string, Host> = {};
        for (const host of args.site.hosts) {
            hosts[host.name] = new Host(
                `${name}-${host.name}`,
                {
                    host: { ...host, site: args.site.name },
                    sshPrivateKey: args.sshPrivateKey,
                    zabbix: args.zabbix,
                    extraPackages: args.extraPackages?.[host.name],
                    extraRepositories: args.extraRepositories?.[host.name],
                    lost: args.site.lost,
                    tls: args.tls[host.name],
                    firewall: args.firewall,
                },
                { parent: this },
            );
        }
        this.hosts = hosts;
        this.registerOutputs({ hosts: Object.keys(hosts) });
    }
}
