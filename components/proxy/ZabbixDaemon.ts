import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PackageSource, PlacedHost } from "../config/types";
import { Placed } from "../facts";
import { Host, renderFor } from "../host";
import { ZabbixDaemonLayout, ZabbixLayout, platformFor, zabbixLayout } from "../platform";
import { Psk, generatePsk } from "./psk";
import { PSK_VARIABLE } from "./steps";

/** Where a host sits, as the facts of a component on it start. */
export function placedOf(host: PlacedHost): Placed {
    return { host: host.name, site: host.site, address: host.address };
}

/** What the proxy's and the agent's arguments share: the host, its installation, the package source, the buffers and what they bridge. */
export interface DaemonPlacementArgs<Sizing> {
    /** Its host; the host's name is its Hostname in Zabbix. */
    readonly host: Host;
    /** The name of the installation it reports to (declared in its facts, for the model and the lab). */
    readonly installation: string;
    /** Where its Zabbix packages come from (zabbix.packageSource), which decides its paths. */
    readonly packageSource: PackageSource;
    /** Its buffers (components/sizing). */
    readonly sizing: Sizing;
    /** The longest outage its buffers were sized to bridge, in seconds. */
    readonly outageSeconds: number;
}

/** How one Zabbix daemon with a PSK runs on its host. */
export interface ZabbixDaemonRecipe {
    /** Its PSK identity's prefix; the host name follows. */
    readonly identityPrefix: string;
    /** Which of the platform's daemons it is. */
    readonly daemon: (layout: ZabbixLayout) => ZabbixDaemonLayout;
    /** The step's script, given the platform's Zabbix layout and the PSK's identity. */
    readonly script: (layout: ZabbixLayout, identity: string) => string;
    /** What undoes it. */
    readonly removal: (daemon: ZabbixDaemonLayout) => string;
}

/** The facts every daemon declares besides its own: where it sits, its installation, its buffers, its TLS. */
type CommonFacts = Placed & { installation: string; sizing: Record<string, number>; outageSeconds: number; tls: "psk" };

/**
 * A Zabbix daemon (a proxy, agent 2) on one host: its PSK from @pulumi/random, and one step that
 * installs the key from stdin and the rendered configuration and runs it.
 */
export abstract class ZabbixDaemon<Facts extends CommonFacts> extends pulumi.ComponentResource {
    /** The step that installs its files and runs it. */
    public readonly configured: command.remote.Command;
    /** Its PSK identity and key (a secret), for the Zabbix object the server keeps of it. */
    public readonly psk: Psk;
    /** What it declares. */
    public readonly facts: Facts;

    protected constructor(
        token: string,
        name: string,
        args: DaemonPlacementArgs<object>,
        own: Omit<Facts, keyof CommonFacts>,
        recipe: ZabbixDaemonRecipe,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        const host = args.host.config;
        const facts = {
            ...placedOf(host),
            installation: args.installation,
            ...own,
            sizing: { ...args.sizing },
            outageSeconds: args.outageSeconds,
            tls: "psk",
        } as Facts;
        super(token, name, facts, opts);
        this.facts = facts;
        this.psk = generatePsk(name, `${recipe.identityPrefix}${host.name}`, this);
        const layout = zabbixLayout(platformFor(host.os), args.packageSource);
        this.configured = args.host.step(
            `${name}-config`,
            {
                script: renderFor(this, () => recipe.script(layout, this.psk.identity)),
                secrets: [{ variable: PSK_VARIABLE, value: this.psk.hex }],
                delete: recipe.removal(recipe.daemon(layout)),
            },
            { parent: this },
        );
        this.registerOutputs({ configured: this.configured.id, pskIdentity: this.psk.identity });
    }
}
