/**
 * The pair's CIB input and small helpers shared by the Pacemaker checks.
 */
import { writeFile } from "fs/promises";
import * as path from "path";
import { PacemakerCibInput, pacemakerIds } from "../../components/drbd/render";
import { RunResult } from "./support";
import { Scratch } from "./support";

/** The CIB's ids of the pair's resources, as the renderer names them. */
export const ids = pacemakerIds({
    drbdResource: "zabbix",
    services: { postgres: "x", zabbixServer: "x", web: ["php8.2-fpm", "nginx"] },
});
/** The group's members, in their start order. */
export const MEMBERS = ["fs", "vip", "db", "zabbix-server", "web-php8.2-fpm", "web-nginx"];

/** A two-node pair in one site with IPMI fencing; `over` replaces fields. */
export function cibInput(over: Partial<PacemakerCibInput> = {}): PacemakerCibInput {
    return {
        clusterName: "zabbix-east",
        nodes: [
            { name: "n1", address: "10.0.0.1" },
            { name: "n2", address: "10.0.0.2" },
        ],
        preferredNode: "n1",
        drbdResource: "zabbix",
        drbdDevice: "/dev/drbd0",
        filesystem: { mountPoint: "/var/lib/postgresql", fsType: "ext4" },
        vip: { address: "10.0.0.10", cidrNetmask: 24 },
        services: { postgres: "postgresql@15-main", zabbixServer: "zabbix-server", web: ["php8.2-fpm", "nginx"] },
        fencing: {
            agent: "fence_ipmilan",
            devices: ["n1", "n2"].map((node, i) => ({
                node,
                params: {
                    ip: `10.0.1.${i + 1}`,
                    username: "admin",
                    password_script: "cat /etc/zabbix-ha/fence-password",
                    lanplus: "1",
                },
            })),
        },
        ...over,
    };
}

/** A writer of files into fresh temp dirs of `scratch`. */
export function tempFiles(scratch: Scratch): (name: string, content: string) => Promise<string> {
    return async (name, content) => {
        const file = path.join(await scratch.dir("pcmk"), name);
        await writeFile(file, content);
        return file;
    };
}

/** The command, its exit code and what it printed, for a failure message. */
export function describeRun(r: RunResult): string {
    return `${r.command} exited ${r.code}:\n${r.output}`;
}

/** A copy of the rendered CIB with a regular-expression edit, failing if the edit matched nothing. */
export function edited(cib: string, pattern: RegExp, replacement: string): string {
    const out = cib.replace(pattern, replacement);
    if (out === cib) {
        throw new Error(`the edit ${pattern} matched nothing`);
    }
    return out;
}
