/**
 * What each host runs, asked of the host itself: its OS (os-release) and the Zabbix package it has.
 * `up` checks that every host runs the OS its config names; `status` shows both.
 */
import { OsFamily } from "../../../components/config";
import { platformFor } from "../../../components/platform";
import { sshRun } from "../machines";
import { Check } from "./verify";

/** One line: os-release's ID, VERSION_ID and PRETTY_NAME, then the Zabbix server's or frontend's package version. */
const WHAT_RUNS = `. /etc/os-release; printf '%s|%s|%s|' "$ID" "$VERSION_ID" "$PRETTY_NAME"; dpkg-query -W -f='\${Version}\\n' zabbix-server-pgsql zabbix-frontend-php 2>/dev/null | head -n1`;

export interface WhatRuns {
    /** os-release's ID and VERSION_ID ("debian", "13"). */
    readonly id: string;
    readonly versionId: string;
    /** os-release's PRETTY_NAME ("Debian GNU/Linux 13 (trixie)"). */
    readonly os: string;
    /** The Zabbix package's upstream version ("7.0.22"), if Zabbix is installed. */
    readonly zabbix?: string;
}

function parseWhatRuns(text: string): WhatRuns {
    const [id = "", versionId = "", os = "", version = ""] = text.trim().split("|");
    // Debian's version without epoch or packaging suffix: 1:7.0.22+dfsg-1~deb13u1 -> 7.0.22.
    const zabbix = version.replace(/^\d+:/, "").replace(/[+~-].*$/, "");
    return { id, versionId, os, zabbix: zabbix || undefined };
}

export function describeRuns(runs: WhatRuns): string {
    return `${runs.os}, ${runs.zabbix ? `Zabbix ${runs.zabbix}` : "no Zabbix"}`;
}

/** Asks a host what it runs. */
export async function whatRuns(host: { address: string; sshPort?: number }, key: string): Promise<WhatRuns> {
    const out = await sshRun({
        host: host.address,
        port: host.sshPort ?? 22,
        user: "root",
        key,
        command: WHAT_RUNS,
        connectTimeout: 3,
        timeoutMs: 20_000,
    });
    if (out.code !== 0) {
        throw new Error(`${host.address}: ${out.stderr.trim() || `exit ${out.code}`}`);
    }
    return parseWhatRuns(out.stdout);
}

/** Every host runs the OS the config names for it (os-release's ID and VERSION_ID against the platform's). */
export async function checkOperatingSystems(
    hosts: readonly { name: string; address: string; os: OsFamily; sshPort?: number }[],
    key: string,
): Promise<Check> {
    const found = await Promise.all(
        hosts.map(async h => {
            const expected = platformFor(h.os).vendorDistro;
            try {
                const runs = await whatRuns(h, key);
                const ok = runs.id === expected.name && runs.versionId === expected.release;
                return { ok, line: `${h.name} ${describeRuns(runs)}${ok ? "" : ` (config: ${h.os})`}` };
            } catch (err) {
                return { ok: false, line: `${h.name}: ${(err as Error).message}` };
            }
        }),
    );
    return { name: "operating systems", ok: found.every(f => f.ok), detail: found.map(f => f.line).join("; ") };
}
