/**
 * The DRBD resource file of the two-node pair, in the dialect of the drbd-utils parser that reads
 * it: drbd-utils 9 parses an 8.4 file when the loaded kernel module is 8.4 (Debian 12's in-kernel
 * module) and a 9 file otherwise, and the two disagree on where some options live.
 */

const HEADER = "Rendered by zabbix-ha; `pulumi up` overwrites local edits.";

/** A cluster node: its name as `uname -n` prints it, and its address on the replication network. */
export interface DrbdNode {
    readonly name: string;
    readonly address: string;
}

/** The dialect of drbd-utils that reads the file: "8.4" with an 8.4 kernel module, "9" otherwise. */
export type DrbdVersion = "8.4" | "9";

export interface DrbdResourceInput {
    /** Resource name (`drbdadm up <resource>`, the ocf:linbit:drbd agent's drbd_resource). */
    readonly resource: string;
    /** The replicated device, e.g. /dev/drbd0. */
    readonly device: string;
    /** Backing partition holding the data; the same name on both nodes. */
    readonly disk: string;
    /**
     * A dedicated meta-data partition, never "internal": an image backup of the data partition
     * then restores without recreating DRBD's meta data (and the file system keeps its full size).
     */
    readonly metaDisk: string;
    /** TCP port of the replication link. */
    readonly port: number;
    readonly nodes: readonly [DrbdNode, DrbdNode];
    /** The drbd-utils parser that will read the file. */
    readonly version: DrbdVersion;
    /**
     * resource-and-stonith fencing with Pacemaker's handlers: a node that loses its peer freezes
     * I/O until the cluster has fenced the peer, and the peer's copy is barred from promotion.
     */
    readonly fencing: boolean;
    /** Replication protocol; C (synchronous) is the only one offered: a failover loses no write. */
    readonly protocol?: "C";
}

/** The handler scripts drbd-utils ships for Pacemaker, per dialect. */
export const CRM_HANDLERS: Readonly<Record<DrbdVersion, { fence: string; unfence: string; unfenceHandler: string }>> = {
    // DRBD 9 calls unfence-peer itself once the peer is back in sync.
    "9": {
        fence: "/usr/lib/drbd/crm-fence-peer.9.sh",
        unfence: "/usr/lib/drbd/crm-unfence-peer.9.sh",
        unfenceHandler: "unfence-peer",
    },
    // DRBD 8.4 has no unfence-peer event: the constraint goes once this node has resynced.
    "8.4": {
        fence: "/usr/lib/drbd/crm-fence-peer.sh",
        unfence: "/usr/lib/drbd/crm-unfence-peer.sh",
        unfenceHandler: "after-resync-target",
    },
};

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DEVICE = /^\/dev\/[A-Za-z0-9_./-]+$/;

/** Whether a path names a block device under /dev, and only there: no `.` or `..` segment, nothing to quote. */
export function isBlockDevicePath(value: string): boolean {
    return DEVICE.test(value) && value.split("/").every(segment => segment !== "." && segment !== "..");
}

/** Throws unless the values can be written into a DRBD file unquoted and mean what they say. */
function checkDrbdInput(c: DrbdResourceInput): void {
    if (!NAME.test(c.resource)) {
        throw new Error(`DRBD resource name "${c.resource}" must be letters, digits, '_', '.' or '-'`);
    }
    for (const [what, value] of [
        ["device", c.device],
        ["disk", c.disk],
        ["metaDisk", c.metaDisk],
    ] as const) {
        if (!isBlockDevicePath(value)) {
            throw new Error(`DRBD ${what} "${value}" must be a block device path under /dev`);
        }
    }
    if (c.metaDisk === c.disk) {
        throw new Error(`DRBD metaDisk must be its own partition, not the data disk ${c.disk}`);
    }
    if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) {
        throw new Error(`DRBD port ${c.port} is not a TCP port`);
    }
    const [a, b] = c.nodes;
    for (const node of c.nodes) {
        if (!NAME.test(node.name)) {
            throw new Error(`DRBD node name "${node.name}" must be a host name as uname -n prints it`);
        }
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(node.address)) {
            throw new Error(`DRBD node ${node.name}: address "${node.address}" must be an IPv4 address`);
        }
    }
    if (a.name === b.name || a.address === b.address) {
        throw new Error(
            `the two DRBD nodes need different names and addresses (${a.name} ${a.address}, ${b.name} ${b.address})`,
        );
    }
}

/** /etc/drbd.d/<resource>.res for one resource replicated between two nodes. */
export function renderDrbdResource(c: DrbdResourceInput): string {
    if ((c.metaDisk as string) === "internal") {
        throw new Error(
            "DRBD meta-disk internal is refused: give a dedicated partition, so that image backups of the data restore as they are",
        );
    }
    checkDrbdInput(c);
    const v9 = c.version === "9";
    const handlers = CRM_HANDLERS[c.version];
    const fencing = "        fencing resource-and-stonith;\n";
    const net = `    net {
        protocol ${c.protocol ?? "C"};
${c.fencing && v9 ? fencing : ""}    }
`;
    // 8.4 reads fencing in disk {}; 9 moved it to net {} and rejects it in disk {}.
    const disk = c.fencing && !v9 ? `    disk {\n${fencing}    }\n` : "";
    const handlerBlock = c.fencing
        ? `    handlers {
        fence-peer "${handlers.fence}";
        ${handlers.unfenceHandler} "${handlers.unfence}";
    }
`
        : "";
    const on = c.nodes
        .map(
            (node, i) => `    on ${node.name} {
${v9 ? `        node-id ${i};\n` : ""}        device ${c.device};
        disk ${c.disk};
        meta-disk ${c.metaDisk};
        address ipv4 ${node.address}:${c.port};
    }
`,
        )
        .join("");
    return `# ${HEADER}
# DRBD ${c.version} dialect; meta data on the dedicated partition ${c.metaDisk}.
resource ${c.resource} {
${net}${disk}${handlerBlock}${on}}
`;
}
