/**
 * corosync.conf for a two-node Pacemaker cluster: corosync 3 with the kronosnet transport and
 * votequorum's two_node mode, so the survivor of a node failure keeps quorum (and fences its peer).
 */

const HEADER = "Rendered by zabbix-ha; `pulumi up` overwrites local edits.";

/** Where corosync reads its shared key from; knet encrypts and authenticates every packet with it. */
export const COROSYNC_AUTHKEY = "/etc/corosync/authkey";
/** The UDP port of the knet link between the nodes: corosync's default, which corosync.conf leaves as it is. */
export const COROSYNC_KNET_PORT = 5405;

export interface CorosyncNode {
    /** Node name: `uname -n` of the host, which Pacemaker and DRBD use too. */
    readonly name: string;
    /** Address of the cluster link (ring 0). */
    readonly address: string;
    /** Unique, from 1. */
    readonly nodeId: number;
}

export interface CorosyncConfInput {
    readonly clusterName: string;
    readonly nodes: readonly CorosyncNode[];
    /** Shared key file; the default is corosync's own. */
    readonly keyFile?: string;
}

export function renderCorosyncConf(c: CorosyncConfInput): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(c.clusterName)) {
        throw new Error(`cluster name "${c.clusterName}" must be letters, digits, '_' or '-' (at most 64)`);
    }
    if (c.nodes.length !== 2) {
        throw new Error(`two_node mode is for exactly two nodes, got ${c.nodes.length}`);
    }
    const ids = new Set(c.nodes.map(n => n.nodeId));
    const names = new Set(c.nodes.map(n => n.name));
    if (ids.size !== c.nodes.length || names.size !== c.nodes.length) {
        throw new Error(
            `corosync node names and ids must be unique: ${c.nodes.map(n => `${n.name}=${n.nodeId}`).join(", ")}`,
        );
    }
    for (const n of c.nodes) {
        if (!Number.isInteger(n.nodeId) || n.nodeId < 1) {
            throw new Error(`corosync node ${n.name}: nodeid ${n.nodeId} must be a positive integer`);
        }
        if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(n.name) || !/^\d{1,3}(\.\d{1,3}){3}$/.test(n.address)) {
            throw new Error(`corosync node "${n.name}" needs a host name and an IPv4 address, got "${n.address}"`);
        }
    }
    const nodes = c.nodes
        .map(
            n => `    node {
        name: ${n.name}
        nodeid: ${n.nodeId}
        ring0_addr: ${n.address}
    }
`,
        )
        .join("");
    return `# ${HEADER}
totem {
    version: 2
    cluster_name: ${c.clusterName}
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
    keyfile: ${c.keyFile ?? COROSYNC_AUTHKEY}
}

nodelist {
${nodes}}

quorum {
    provider: corosync_votequorum
    # Two nodes: the survivor keeps quorum and fences its peer; both must have met once
    # (wait_for_all, implied) before either runs resources after a cold start.
    two_node: 1
}

logging {
    to_syslog: yes
    to_stderr: no
    timestamp: on
}
`;
}
