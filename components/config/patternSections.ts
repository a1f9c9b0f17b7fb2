/**
 * Readers of the sections only some patterns use: drbd, configSync, cloud.
 */
import {
    FENCE_AGENT_NAME,
    FENCE_PASSWORD_FILE,
    FENCE_PASSWORD_SCRIPT,
    fenceParameterHoldsSecret,
    fenceParameterName,
    isFencePasswordScript,
} from "../drbd/fencing";
import { isBlockDevicePath } from "../drbd/drbd";
import { POSTGRES_DEFAULT_PORT } from "../platform";
import { cidrContains, isIPv4 } from "./network";
import { checkPemCaBundle } from "./pki";
import { Reader, hasControlCharacter, join } from "./reader";
import { CloudConfig, ConfigSyncConfig, DrbdConfig, SiteConfig } from "./types";

export function readDrbd(
    r: Reader,
    value: unknown,
    sites: readonly SiteConfig[],
    required: boolean,
): DrbdConfig | undefined {
    if (value === undefined) {
        if (required) {
            r.problem("drbd", "is required by this pattern: the pair's site, nodes, vip, disk, metaDisk and fencing");
        }
        return undefined;
    }
    const node = r.object(value, "drbd", ["site", "nodes", "vip", "disk", "metaDisk", "port", "fencing"]);
    if (!node) {
        return undefined;
    }
    const siteName = r.string(node, "site", "drbd");
    const site = sites.find(s => s.name === siteName);
    // A site without an L2 segment, or a pair split across sites, is a design flaw the policies and the
    // preview's analysis report; it is not malformed input, so it is planned rather than rejected.
    if (siteName !== undefined && !site) {
        r.problem("drbd.site", `"${siteName}" is not a site`);
    }
    const nodes = node.nodes;
    let pair: [string, string] | undefined;
    if (!Array.isArray(nodes) || nodes.length !== 2 || !nodes.every(n => typeof n === "string")) {
        r.problem("drbd.nodes", "expected exactly two host names");
    } else {
        pair = [nodes[0], nodes[1]];
        nodes.forEach((name, i) => {
            const owner = sites.find(s => s.hosts.some(h => h.name === name));
            if (!owner) {
                r.problem(`drbd.nodes[${i}]`, `"${name}" is not a host`);
            }
        });
        if (nodes[0] === nodes[1]) {
            r.problem("drbd.nodes", "the two nodes must be different hosts");
        }
    }
    const vip = r.string(node, "vip", "drbd");
    if (vip !== undefined && !isIPv4(vip)) {
        r.problem("drbd.vip", `"${vip}" is not an IPv4 address`);
    } else if (vip !== undefined && site && !cidrContains(site.network, vip)) {
        r.problem("drbd.vip", `${vip} is outside site "${site.name}"'s network ${site.network}`);
    } else if (vip !== undefined && sites.some(s => s.hosts.some(h => h.address === vip))) {
        r.problem("drbd.vip", `${vip} is a host's address`);
    }
    const disk = r.string(node, "disk", "drbd");
    const metaDisk = r.string(node, "metaDisk", "drbd");
    for (const [key, device] of [
        ["disk", disk],
        ["metaDisk", metaDisk],
    ] as const) {
        if (device !== undefined && device !== "internal" && !isBlockDevicePath(device)) {
            r.problem(
                `drbd.${key}`,
                `${JSON.stringify(device)} is not a block device path under /dev (no "." or ".." in it)`,
            );
        }
    }
    if (metaDisk === "internal") {
        r.problem(
            "drbd.metaDisk",
            "use a dedicated partition, not internal meta-data, so that image backups of the data restore cleanly",
        );
    } else if (metaDisk !== undefined && metaDisk === disk) {
        r.problem("drbd.metaDisk", "must be a partition of its own, not the data disk");
    }
    const port = r.integer(node, "port", "drbd", 7788, 1, 65535);
    const fencing = readFencing(r, node.fencing, pair ?? []);
    if (
        !site ||
        !pair ||
        vip === undefined ||
        !disk ||
        !metaDisk ||
        metaDisk === "internal" ||
        !isBlockDevicePath(disk) ||
        !isBlockDevicePath(metaDisk) ||
        port === undefined ||
        !fencing
    ) {
        return undefined;
    }
    return {
        site: site.name,
        nodes: pair,
        vip,
        vipPrefixLength: Number(site.network.split("/")[1]),
        disk,
        metaDisk,
        port,
        fencing,
    };
}

function readFencing(r: Reader, value: unknown, nodes: readonly string[]): DrbdConfig["fencing"] | undefined {
    if (value === undefined) {
        r.problem(
            "drbd.fencing",
            "is required: a two-node cluster without fencing can promote both sides (split brain)",
        );
        return undefined;
    }
    const node = r.object(value, "drbd.fencing", ["agent", "devices"]);
    if (!node) {
        return undefined;
    }
    const agent = r.string(node, "agent", "drbd.fencing", "fence_ipmilan");
    if (agent !== undefined && !FENCE_AGENT_NAME.test(agent)) {
        r.problem("drbd.fencing.agent", `"${agent}" is not a fence agent's name (fence_ipmilan, fence_aws, ...)`);
    }
    const devices = node.devices;
    if (!Array.isArray(devices) || devices.length === 0) {
        r.problem("drbd.fencing.devices", "expected one fence device per node: { node, params }");
        return undefined;
    }
    const parsed = devices.flatMap((device, i) => {
        const path = `drbd.fencing.devices[${i}]`;
        const d = r.object(device, path, ["node", "params"]);
        const name = d && r.string(d, "node", path);
        if (name !== undefined && nodes.length > 0 && !nodes.includes(name)) {
            r.problem(
                join(path, "node"),
                `${JSON.stringify(name)} is not one of the pair's nodes (${nodes.join(", ")})`,
            );
        }
        const params = d?.params ?? {};
        if (
            typeof params !== "object" ||
            Array.isArray(params) ||
            Object.values(params as object).some(v => typeof v !== "string")
        ) {
            r.problem(join(path, "params"), "expected a mapping of the agent's parameters to strings");
            return [];
        }
        // A bad parameter is its own problem; the device still counts for its node.
        for (const [key, v] of Object.entries(params as Record<string, string>)) {
            checkFenceParameter(r, join(join(path, "params"), key), key, v);
        }
        return name ? [{ node: name, params: params as Record<string, string> }] : [];
    });
    for (const name of nodes) {
        if (!parsed.some(d => d.node === name)) {
            r.problem("drbd.fencing.devices", `no fence device for node ${name}`);
        }
    }
    return agent ? { agent, devices: parsed } : undefined;
}

/**
 * One fence parameter. Pacemaker hands a fence agent its parameters on stdin, one `name=value` a
 * line, so a line break in a value would add a parameter; the CIB that holds them travels in a
 * step's command text, which Pulumi stores and logs in clear, so no secret may be among them.
 */
function checkFenceParameter(r: Reader, path: string, key: string, value: string): void {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(key)) {
        r.problem(path, "is not a fence agent parameter name (letters, digits, '_' and '-')");
    } else if (fenceParameterHoldsSecret(key)) {
        const password = ["password", "passwd", "snmp_priv_passwd"].includes(fenceParameterName(key));
        r.problem(
            path,
            "holds a secret in clear: the CIB goes into a step's command text, which Pulumi stores and logs as it is. " +
                (password
                    ? `Give ${fenceParameterName(key) === "snmp_priv_passwd" ? "snmp_priv_passwd_script" : "password_script"} instead, a command that prints it ("${FENCE_PASSWORD_SCRIPT}"), ` +
                      "with the password in the secret fencePassword (`pulumi config set --secret fencePassword`)"
                    : "fence-agents reads only passwords through a command (password_script, snmp_priv_passwd_script): " +
                      "give this agent its credential by its own means, off the CIB (fence_aws: the instance's IAM role), or use an agent that takes a password"),
        );
    }
    if (hasControlCharacter(value)) {
        r.problem(path, "holds a control character or line break: the fence agent reads its parameters one a line");
    } else if (isFencePasswordScript(key) && value.trim() === FENCE_PASSWORD_FILE) {
        r.problem(
            path,
            `fence-agents runs ${key} as a command and takes what it prints as the password; the file's path runs the ` +
                `file (Permission denied, and an empty password): use "${FENCE_PASSWORD_SCRIPT}"`,
        );
    }
}

/** Whether a fence device reads the password file the library writes from the secret fencePassword. */
export function readsFencePasswordFile(params: Readonly<Record<string, string>>): boolean {
    return Object.entries(params).some(
        ([key, value]) => isFencePasswordScript(key) && value.includes(FENCE_PASSWORD_FILE),
    );
}

/** The Zabbix user names configSync.apiUser may be (Zabbix's own limit is 100 characters). */
const ZABBIX_API_USER = /^[A-Za-z0-9._@+-]{1,100}$/;

export function readConfigSync(
    r: Reader,
    value: unknown,
    sites: readonly SiteConfig[],
    defaultSource: string | undefined,
): ConfigSyncConfig | undefined {
    const node = r.object(value, "configSync", ["sourceSite", "intervalMinutes", "apiUser"]);
    if (!node) {
        return undefined;
    }
    const sourceSite = r.string(node, "sourceSite", "configSync", defaultSource ?? sites[0]?.name ?? "");
    if (sourceSite && !sites.some(s => s.name === sourceSite)) {
        r.problem("configSync.sourceSite", `"${sourceSite}" is not a site`);
    }
    const intervalMinutes = r.integer(node, "intervalMinutes", "configSync", 10, 1, 1440);
    const apiUser = r.string(node, "apiUser", "configSync", "Admin");
    // Zabbix takes up to 100 characters of any kind; the sync's user is an operator's choice, so
    // nothing that would need quoting anywhere it goes (a root script, JSON, a log line).
    if (apiUser !== undefined && !ZABBIX_API_USER.test(apiUser)) {
        r.problem(
            "configSync.apiUser",
            `${JSON.stringify(apiUser)} is not a Zabbix user name the sync takes: 1 to 100 letters, digits and . _ @ + -`,
        );
        return undefined;
    }
    return sourceSite && intervalMinutes !== undefined && apiUser
        ? { sourceSite, intervalMinutes, apiUser }
        : undefined;
}

export function readCloud(r: Reader, value: unknown, required: boolean): CloudConfig | undefined {
    if (value === undefined) {
        if (required) {
            r.problem(
                "cloud",
                "is required by this pattern: cloud.database.host names the managed PostgreSQL endpoint",
            );
        }
        return undefined;
    }
    const node = r.object(value, "cloud", ["database"]);
    const db =
        node &&
        r.object(node.database ?? {}, "cloud.database", ["host", "port", "adminUser", "sslmode", "caCertificate"]);
    if (!db) {
        return undefined;
    }
    const host = r.string(db, "host", "cloud.database");
    if (host !== undefined && !/^[A-Za-z0-9.-]+$/.test(host)) {
        r.problem("cloud.database.host", `"${host}" is not a host name or address`);
    }
    const port = r.integer(db, "port", "cloud.database", POSTGRES_DEFAULT_PORT, 1, 65535);
    const adminUser = r.string(db, "adminUser", "cloud.database", "postgres");
    // The provider's role name as managed services hand them out (Azure's older user@server too).
    if (adminUser !== undefined && !/^[A-Za-z0-9_.@-]{1,63}$/.test(adminUser)) {
        r.problem(
            "cloud.database.adminUser",
            `${JSON.stringify(adminUser)} is not a role name (1 to 63 letters, digits and _ . @ -)`,
        );
    }
    const sslmode = r.oneOf(
        db,
        "sslmode",
        "cloud.database",
        ["verify-full", "require", "disable"] as const,
        "verify-full",
    );
    const caCertificate = readManagedCa(r, db, sslmode);
    return host && port !== undefined && adminUser && sslmode && caCertificate !== undefined
        ? { database: { host, port, adminUser, sslmode, ...(caCertificate ? { caCertificate } : {}) } }
        : undefined;
}

/**
 * The provider's CA bundle, which every client verifies the endpoint's certificate against: required
 * with verify-full (the default), refused with a mode that would never read it. "" when none is
 * wanted, undefined on a problem.
 */
function readManagedCa(r: Reader, db: Record<string, unknown>, sslmode: string | undefined): string | undefined {
    const path = "cloud.database.caCertificate";
    const pem = r.string(db, "caCertificate", "cloud.database", "");
    if (pem === undefined || sslmode === undefined) {
        return undefined;
    }
    if (sslmode !== "verify-full") {
        if (pem) {
            r.problem(
                path,
                `is only read with sslmode verify-full, not ${sslmode}: remove it or set sslmode to verify-full`,
            );
            return undefined;
        }
        return "";
    }
    if (!pem) {
        r.problem(
            path,
            "is required (sslmode verify-full, the default): the CA bundle (PEM) your provider signs the endpoint's certificate with, " +
                "from its documentation or console (e.g. AWS RDS's global-bundle.pem, Azure's DigiCert Global Root G2, " +
                "Google Cloud SQL's server-ca.pem); sslmode require encrypts without checking who answers",
        );
        return undefined;
    }
    const before = r.problemCount();
    checkPemCaBundle(r, pem, path);
    return r.problemCount() > before ? undefined : pem;
}
