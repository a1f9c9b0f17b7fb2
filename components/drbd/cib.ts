/**
 * The Pacemaker CIB of the DRBD pair: the classic two-node Zabbix cluster. A promotable DRBD clone
 * holds the DB's disk; one group follows its promoted instance and starts, in order, the file
 * system, the VIP, PostgreSQL, the Zabbix server and the web server; fencing is mandatory.
 *
 * The document is whole (`<cib>` with an empty status) so crm_verify and crm_simulate read it as
 * it is; the hosts load its `<configuration>`. Secrets never appear here: a fence agent reads its
 * password through a parameter such as password_script, a command it runs that prints the password
 * (such as `cat` of a root-only file).
 */
import { DrbdNode } from "./drbd";
import { FENCE_AGENT_NAME, fenceParameterHoldsSecret } from "./fencing";

export interface PacemakerCibInput {
    readonly clusterName: string;
    readonly nodes: readonly [DrbdNode, DrbdNode];
    /** Node name the services run on while both nodes are up (and no earlier failover holds them elsewhere). */
    readonly preferredNode: string;
    /** DRBD resource name (drbd_resource of ocf:linbit:drbd). */
    readonly drbdResource: string;
    /** The DRBD device the file system lives on, e.g. /dev/drbd0. */
    readonly drbdDevice: string;
    readonly filesystem: { readonly mountPoint: string; readonly fsType: "ext4" | "xfs" };
    readonly vip: { readonly address: string; readonly cidrNetmask: number; readonly nic?: string };
    /** systemd units, started in this order after the file system and the VIP. */
    readonly services: { readonly postgres: string; readonly zabbixServer?: string; readonly web: readonly string[] };
    /** One device per node it fences; params come from the caller and must hold no secret. */
    readonly fencing: {
        readonly agent: string;
        readonly devices: readonly { readonly node: string; readonly params: Record<string, string> }[];
    };
}

/** The schema of the document; role="Promoted" needs pacemaker-3.7 or later. */
export const CIB_SCHEMA = "pacemaker-3.7";

/** The ids of the CIB's resources, for constraints, tests and operators. */
export interface CibIds {
    /** The DRBD primitive; its promotion score is the node attribute `master-<drbd>`. */
    readonly drbd: string;
    /** The promotable clone of it. */
    readonly drbdClone: string;
    readonly group: string;
    readonly filesystem: string;
    readonly vip: string;
    readonly db: string;
    readonly zabbixServer?: string;
    readonly web: readonly string[];
    /** The group's members in start order. */
    readonly members: readonly string[];
    /** The stonith resource that fences a node. */
    readonly fence: (node: string) => string;
}

/** Turns any text into a valid XML id (an NCName). */
export function xmlId(text: string): string {
    const id = text.replace(/[^A-Za-z0-9_.-]/g, "_");
    return /^[A-Za-z_]/.test(id) ? id : `_${id}`;
}

/** Escapes text for a double-quoted XML attribute value. */
export function xmlAttr(value: string | number): string {
    return String(value).replace(
        /[&<>"']/g,
        ch => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[ch]!,
    );
}

export function pacemakerIds(c: Pick<PacemakerCibInput, "drbdResource" | "services">): CibIds {
    const drbd = xmlId(`drbd-${c.drbdResource}`);
    const zabbixServer = c.services.zabbixServer ? "zabbix-server" : undefined;
    const web = c.services.web.map(unit => xmlId(`web-${unit.replace(/\.service$/, "")}`));
    const members = ["fs", "vip", "db", ...(zabbixServer ? [zabbixServer] : []), ...web];
    return {
        drbd,
        drbdClone: `${drbd}-clone`,
        group: "zabbix",
        filesystem: "fs",
        vip: "vip",
        db: "db",
        zabbixServer,
        web,
        members,
        fence: node => xmlId(`fence-${node}`),
    };
}

/** Parameters of fence agents that hold a password in clear; the CIB must not. */
interface Op {
    readonly name: string;
    readonly interval: string;
    readonly timeout: string;
    readonly role?: "Promoted" | "Unpromoted";
}

interface Primitive {
    readonly id: string;
    readonly class: "ocf" | "systemd" | "stonith";
    readonly provider?: string;
    readonly type: string;
    readonly params?: Record<string, string>;
    readonly ops: readonly Op[];
}

function nvpairs(setTag: string, setId: string, values: Record<string, string>, indent: string): string[] {
    const entries = Object.entries(values);
    if (entries.length === 0) {
        return [];
    }
    return [
        `${indent}<${setTag} id="${xmlAttr(setId)}">`,
        ...entries.map(
            ([name, value]) =>
                `${indent}  <nvpair id="${xmlAttr(xmlId(`${setId}-${name}`))}" name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>`,
        ),
        `${indent}</${setTag}>`,
    ];
}

function primitive(p: Primitive, indent: string): string[] {
    const provider = p.provider ? ` provider="${xmlAttr(p.provider)}"` : "";
    const op = (o: Op) => {
        const id = xmlId(`${p.id}-${o.name}-${o.interval}${o.role ? `-${o.role}` : ""}`);
        const role = o.role ? ` role="${o.role}"` : "";
        return `${indent}    <op id="${xmlAttr(id)}" name="${o.name}" interval="${o.interval}" timeout="${o.timeout}"${role}/>`;
    };
    return [
        `${indent}<primitive id="${xmlAttr(p.id)}" class="${p.class}"${provider} type="${xmlAttr(p.type)}">`,
        ...nvpairs("instance_attributes", `${p.id}-params`, p.params ?? {}, `${indent}  `),
        `${indent}  <operations>`,
        ...p.ops.map(op),
        `${indent}  </operations>`,
        `${indent}</primitive>`,
    ];
}

/** start, stop and monitor of a systemd unit; PostgreSQL may need long to start (recovery) or stop (checkpoint). */
function serviceOps(startStop: string): Op[] {
    return [
        { name: "start", interval: "0s", timeout: startStop },
        { name: "stop", interval: "0s", timeout: startStop },
        { name: "monitor", interval: "30s", timeout: "60s" },
    ];
}

function checkCibInput(c: PacemakerCibInput): void {
    const names = c.nodes.map(n => n.name);
    if (names[0] === names[1]) {
        throw new Error(`the two cluster nodes need different names, got ${names[0]} twice`);
    }
    if (!names.includes(c.preferredNode)) {
        throw new Error(`preferred node ${c.preferredNode} is not one of the cluster's nodes (${names.join(", ")})`);
    }
    const fenced = c.fencing.devices.map(d => d.node);
    const unfenced = names.filter(n => !fenced.includes(n));
    if (unfenced.length > 0) {
        throw new Error(`fencing is mandatory: no fence device for ${unfenced.join(", ")}`);
    }
    const strangers = fenced.filter(n => !names.includes(n));
    if (strangers.length > 0 || new Set(fenced).size !== fenced.length) {
        throw new Error(`fence devices must name each cluster node once, got ${fenced.join(", ")}`);
    }
    for (const d of c.fencing.devices) {
        const secret = Object.keys(d.params).find(fenceParameterHoldsSecret);
        if (secret) {
            throw new Error(
                `fence device for ${d.node}: parameter ${secret} would put a secret in the CIB; use password_script with a root-only file`,
            );
        }
    }
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(c.vip.address)) {
        throw new Error(`VIP "${c.vip.address}" is not an IPv4 address`);
    }
    if (!Number.isInteger(c.vip.cidrNetmask) || c.vip.cidrNetmask < 1 || c.vip.cidrNetmask > 32) {
        throw new Error(`VIP netmask /${c.vip.cidrNetmask} is not an IPv4 prefix length`);
    }
    const units = [
        c.services.postgres,
        ...(c.services.zabbixServer ? [c.services.zabbixServer] : []),
        ...c.services.web,
    ];
    const badUnit = units.find(u => !/^[A-Za-z0-9:_.@\\-]+$/.test(u));
    if (badUnit !== undefined) {
        throw new Error(`"${badUnit}" is not a systemd unit name`);
    }
    if (new Set(units).size !== units.length) {
        throw new Error(`each service unit may appear once in the group: ${units.join(", ")}`);
    }
    if (!FENCE_AGENT_NAME.test(c.fencing.agent)) {
        throw new Error(`fence agent "${c.fencing.agent}" is not a fence agent name (fence_...)`);
    }
    if (!c.filesystem.mountPoint.startsWith("/")) {
        throw new Error(`mount point ${c.filesystem.mountPoint} must be an absolute path`);
    }
}

/** The fence devices: each can fence one node and never runs on it (a node does not fence itself). */
function fencingResources(c: PacemakerCibInput, ids: CibIds): { primitives: string[]; constraints: string[] } {
    const primitives: string[] = [];
    const constraints: string[] = [];
    for (const d of c.fencing.devices) {
        const params: Record<string, string> = { pcmk_host_list: d.node };
        // On a split both nodes keep quorum (two_node) and race to fence each other: the device that
        // fences the preferred node waits, so the preferred node wins and keeps the services.
        if (d.node === c.preferredNode && !("pcmk_delay_base" in d.params) && !("pcmk_delay_max" in d.params)) {
            params.pcmk_delay_base = "10s";
        }
        Object.assign(params, d.params);
        const id = ids.fence(d.node);
        primitives.push(
            ...primitive(
                {
                    id,
                    class: "stonith",
                    type: c.fencing.agent,
                    params,
                    ops: [{ name: "monitor", interval: "60s", timeout: "60s" }],
                },
                "      ",
            ),
        );
        constraints.push(
            `      <rsc_location id="${xmlAttr(xmlId(`location-${id}-avoids-${d.node}`))}" rsc="${xmlAttr(id)}" node="${xmlAttr(d.node)}" score="-INFINITY"/>`,
        );
    }
    return { primitives, constraints };
}

/** The group's members, in start order (stopped in reverse). */
function groupMembers(c: PacemakerCibInput, ids: CibIds): string[] {
    const members: Primitive[] = [
        {
            id: ids.filesystem,
            class: "ocf",
            provider: "heartbeat",
            type: "Filesystem",
            params: { device: c.drbdDevice, directory: c.filesystem.mountPoint, fstype: c.filesystem.fsType },
            ops: [
                { name: "start", interval: "0s", timeout: "60s" },
                { name: "stop", interval: "0s", timeout: "60s" },
                { name: "monitor", interval: "20s", timeout: "40s" },
            ],
        },
        {
            id: ids.vip,
            class: "ocf",
            provider: "heartbeat",
            type: "IPaddr2",
            params: {
                ip: c.vip.address,
                cidr_netmask: String(c.vip.cidrNetmask),
                ...(c.vip.nic ? { nic: c.vip.nic } : {}),
            },
            ops: [{ name: "monitor", interval: "10s", timeout: "20s" }],
        },
        { id: ids.db, class: "systemd", type: c.services.postgres, ops: serviceOps("300s") },
        ...(c.services.zabbixServer && ids.zabbixServer
            ? [
                  {
                      id: ids.zabbixServer,
                      class: "systemd" as const,
                      type: c.services.zabbixServer,
                      ops: serviceOps("120s"),
                  },
              ]
            : []),
        ...c.services.web.map((unit, i) => ({
            id: ids.web[i],
            class: "systemd" as const,
            type: unit,
            ops: serviceOps("60s"),
        })),
    ];
    return members.flatMap(m => primitive(m, "        "));
}

export function renderPacemakerCib(c: PacemakerCibInput): string {
    checkCibInput(c);
    const ids = pacemakerIds(c);
    const fencing = fencingResources(c, ids);
    const drbd = primitive(
        {
            id: ids.drbd,
            class: "ocf",
            provider: "linbit",
            type: "drbd",
            params: { drbd_resource: c.drbdResource },
            ops: [
                { name: "monitor", interval: "29s", timeout: "20s", role: "Promoted" },
                { name: "monitor", interval: "31s", timeout: "20s", role: "Unpromoted" },
                { name: "start", interval: "0s", timeout: "240s" },
                { name: "stop", interval: "0s", timeout: "100s" },
                { name: "promote", interval: "0s", timeout: "90s" },
                { name: "demote", interval: "0s", timeout: "90s" },
                { name: "notify", interval: "0s", timeout: "90s" },
            ],
        },
        "        ",
    );
    const a = xmlAttr;
    return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Rendered by zabbix-ha; \`pulumi up\` overwrites local edits. -->
<cib validate-with="${CIB_SCHEMA}" admin_epoch="0" epoch="1" num_updates="0">
  <configuration>
    <crm_config>
${nvpairs(
    "cluster_property_set",
    "cib-bootstrap-options",
    {
        "cluster-name": c.clusterName,
        // Fencing is mandatory: DRBD's resource-and-stonith waits on it before a peer may promote.
        "stonith-enabled": "true",
        // corosync's two_node keeps the survivor quorate; a node booted alone (wait_for_all, no quorum)
        // must stop rather than run on data that may be stale.
        "no-quorum-policy": "stop",
    },
    "      ",
).join("\n")}
    </crm_config>
    <!-- Nodes join as corosync names them (uname -n); constraints refer to those names. -->
    <nodes/>
    <resources>
${fencing.primitives.join("\n")}
      <clone id="${a(ids.drbdClone)}">
${nvpairs(
    "meta_attributes",
    `${ids.drbdClone}-meta`,
    {
        promotable: "true",
        "promoted-max": "1",
        "promoted-node-max": "1",
        "clone-max": "2",
        "clone-node-max": "1",
        notify: "true",
    },
    "        ",
).join("\n")}
${drbd.join("\n")}
      </clone>
      <group id="${a(ids.group)}">
${groupMembers(c, ids).join("\n")}
      </group>
    </resources>
    <constraints>
      <rsc_colocation id="colocation-${a(ids.group)}-with-promoted-${a(ids.drbdClone)}" score="INFINITY" rsc="${a(ids.group)}" with-rsc="${a(ids.drbdClone)}" with-rsc-role="Promoted"/>
      <rsc_order id="order-promote-${a(ids.drbdClone)}-then-${a(ids.group)}" kind="Mandatory" first="${a(ids.drbdClone)}" first-action="promote" then="${a(ids.group)}" then-action="start"/>
      <rsc_location id="location-${a(ids.group)}-prefers-${a(xmlId(c.preferredNode))}" rsc="${a(ids.group)}" node="${a(c.preferredNode)}" score="50"/>
${fencing.constraints.join("\n")}
    </constraints>
    <rsc_defaults>
${nvpairs(
    "meta_attributes",
    "rsc-defaults",
    {
        // Higher than the location preference: after a failover the services stay where they run
        // until an operator moves them back at a quiet moment.
        "resource-stickiness": "100",
        "migration-threshold": "3",
    },
    "      ",
).join("\n")}
    </rsc_defaults>
  </configuration>
  <status/>
</cib>
`;
}
