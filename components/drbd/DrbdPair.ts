import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DRBD_PAIR, PairFacts } from "../facts";
import { Host, renderFor } from "../host";
import {
    COROSYNC_AUTHKEY,
    DrbdNode,
    DrbdVersion,
    pacemakerIds,
    renderCorosyncConf,
    renderDrbdResource,
    renderPacemakerCib,
} from "./render";
import { FENCE_PASSWORD_SCRIPT, isFencePasswordScript } from "./fencing";
import { clusterStep, cibLoadStep, drbdStep, initialSyncStep } from "./steps";

/** The DRBD resource and device the pair replicates. */
export const DRBD_RESOURCE = "zabbix";
export const DRBD_DEVICE = "/dev/drbd0";
/** File system made on the DRBD device at the first start. */
export const DRBD_FS_TYPE = "ext4";

/**
 * DrbdPairArgs describe a two-node cluster in one site: a DRBD mirror of the DB's disk and the
 * Pacemaker configuration that moves the whole Zabbix stack between the two nodes.
 */
export interface DrbdPairArgs {
    /** The two nodes, in one site with an L2 segment (the VIP moves between them); their names must be what `uname -n` prints. */
    readonly nodes: readonly [Host, Host];
    /** Host name of the node that runs the services while both are up. */
    readonly preferredNode: string;
    /** The service address that follows the services, on the L2 segment of the nodes' site. */
    readonly vip: { readonly address: string; readonly cidrNetmask: number; readonly site: string };
    /** Backing partition of the DRBD device, the same name on both nodes. */
    readonly disk: string;
    /** A dedicated partition for DRBD's meta data (never internal: image backups of `disk` then restore as they are). */
    readonly metaDisk: string;
    /** TCP port of DRBD's replication link. */
    readonly port: number;
    /** Where the DRBD file system mounts on the active node: the DB's data. */
    readonly mountPoint: string;
    /** systemd units Pacemaker starts on the active node, in this order after the file system and the VIP: the DB, the Zabbix server, the web server units. */
    readonly services: { readonly postgres: string; readonly zabbixServer?: string; readonly web: readonly string[] };
    /**
     * Fencing, which is mandatory: the agent (e.g. fence_ipmilan), one device per node with the
     * agent's parameters (no secret), and the devices' password if they need one. The password is
     * written to a root-only file on both nodes; a device without password_script gets one that reads it.
     */
    readonly fencing: {
        readonly agent: string;
        readonly devices: readonly { readonly node: string; readonly params: Record<string, string> }[];
        readonly password?: pulumi.Input<string>;
    };
    /** Steps that must run first (e.g. the DB's packages and configuration). */
    readonly after?: readonly pulumi.Resource[];
}

/**
 * DrbdPair is the classic two-node Zabbix HA cluster: DRBD mirrors the DB's disk synchronously,
 * Pacemaker promotes DRBD on one node and starts there, in order, the file system, the VIP, the DB,
 * the Zabbix server and the web server, and fences a node it loses before moving them.
 */
export class DrbdPair extends pulumi.ComponentResource {
    /** The VIP address. */
    public readonly vip: string;
    /** The step that loads the CIB; services run after it. */
    public readonly configured: command.remote.Command;
    /** What it declares: its nodes, the VIP and its site, fencing, the disks. */
    public readonly facts: PairFacts;

    constructor(name: string, args: DrbdPairArgs, opts?: pulumi.ComponentResourceOptions) {
        // One device per node, a set: in node order, the same fencing in any config order plans the same CIB.
        const devices = [...args.fencing.devices].sort((a, b) => a.node.localeCompare(b.node));
        // Declared facts (the component's inputs): the policy pack reads them.
        const facts: PairFacts = {
            nodes: args.nodes.map(h => ({ host: h.config.name, site: h.config.site, address: h.config.address })),
            vip: args.vip.address,
            vipSite: args.vip.site,
            fencing: { enabled: devices.length > 0, agent: args.fencing.agent, devices: devices.map(d => d.node) },
            disk: args.disk,
            metaDisk: args.metaDisk,
        };
        super(DRBD_PAIR.token, name, facts, opts);
        this.facts = facts;
        this.vip = args.vip.address;
        const hosts = args.nodes;
        const nodes = hosts.map(h => ({ name: h.config.name, address: h.config.address })) as [DrbdNode, DrbdNode];
        const preferred = hosts.find(h => h.config.name === args.preferredNode);
        if (!preferred) {
            throw new pulumi.ResourceError(
                `DrbdPair ${name}: preferred node ${args.preferredNode} is not one of ${nodes.map(n => n.name).join(", ")}`,
                this,
            );
        }
        const clusterName = name.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 64);
        const ids = pacemakerIds({ drbdResource: DRBD_RESOURCE, services: args.services });
        const { files, corosyncConf, cib } = renderFor(this, () => renderPairFiles(clusterName, args, nodes, devices));
        // corosync's knet key: letters and digits, long enough for any cipher it offers.
        const corosyncKey = new random.RandomPassword(
            `${name}-corosync-key`,
            { length: 256, special: false },
            { parent: this },
        );
        const units = [
            args.services.postgres,
            ...(args.services.zabbixServer ? [args.services.zabbixServer] : []),
            ...args.services.web,
        ];

        const drbdSteps = hosts.map(host =>
            host.step(
                `${name}-${host.config.name}-drbd`,
                {
                    script: drbdStep({ node: host.config.name, resource: DRBD_RESOURCE, pacemakerId: ids.drbd, files }),
                },
                { parent: this, dependsOn: [...(args.after ?? [])] },
            ),
        );
        const clusterSteps = hosts.map((host, i) =>
            host.step(
                `${name}-${host.config.name}-cluster`,
                {
                    secrets: [
                        { variable: "COROSYNC_KEY", value: corosyncKey.result },
                        ...(args.fencing.password !== undefined
                            ? [{ variable: "FENCE_PASSWORD", value: args.fencing.password }]
                            : []),
                    ],
                    script: clusterStep({
                        node: host.config.name,
                        corosyncConf,
                        keyVariable: "COROSYNC_KEY",
                        keyFile: COROSYNC_AUTHKEY,
                        fencePasswordVariable: args.fencing.password !== undefined ? "FENCE_PASSWORD" : undefined,
                        mountPoint: args.mountPoint,
                        units,
                    }),
                },
                { parent: this, dependsOn: [drbdSteps[i]] },
            ),
        );
        const initialSync = preferred.step(
            `${name}-initial-sync`,
            {
                script: initialSyncStep({ resource: DRBD_RESOURCE, device: DRBD_DEVICE, fsType: DRBD_FS_TYPE }),
            },
            { parent: this, dependsOn: drbdSteps },
        );
        this.configured = preferred.step(
            `${name}-cib`,
            {
                script: renderFor(this, () => cibLoadStep({ cib })),
            },
            { parent: this, dependsOn: [initialSync, ...clusterSteps] },
        );
        this.registerOutputs({ vip: this.vip, configured: this.configured.id });
    }
}

/** The pair's files, each in every form its readers take: DRBD's resource per dialect, corosync.conf, the CIB. */
function renderPairFiles(
    clusterName: string,
    args: DrbdPairArgs,
    nodes: [DrbdNode, DrbdNode],
    devices: DrbdPairArgs["fencing"]["devices"],
): { readonly files: Readonly<Record<DrbdVersion, string>>; readonly corosyncConf: string; readonly cib: string } {
    const drbd = (version: "8.4" | "9") =>
        renderDrbdResource({
            resource: DRBD_RESOURCE,
            device: DRBD_DEVICE,
            disk: args.disk,
            metaDisk: args.metaDisk,
            port: args.port,
            nodes,
            version,
            fencing: true,
        });
    const files = { "8.4": drbd("8.4"), "9": drbd("9") };
    const corosyncConf = renderCorosyncConf({
        clusterName,
        nodes: nodes.map((n, i) => ({ ...n, nodeId: i + 1 })),
    });
    const cib = renderPacemakerCib({
        clusterName,
        nodes,
        preferredNode: args.preferredNode,
        drbdResource: DRBD_RESOURCE,
        drbdDevice: DRBD_DEVICE,
        filesystem: { mountPoint: args.mountPoint, fsType: DRBD_FS_TYPE },
        vip: args.vip,
        services: args.services,
        fencing: {
            agent: args.fencing.agent,
            devices: devices.map(d => ({
                node: d.node,
                params:
                    args.fencing.password !== undefined && !Object.keys(d.params).some(isFencePasswordScript)
                        ? { ...d.params, password_script: FENCE_PASSWORD_SCRIPT }
                        : d.params,
            })),
        },
    });
    return { files, corosyncConf, cib };
}
