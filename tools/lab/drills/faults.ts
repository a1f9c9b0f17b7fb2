/**
 * The faults a drill injects, each with its undo. An undo is safe to call whatever happened to the
 * inject (half done, not done, done twice): the drill runner calls it in a finally block.
 */
import { existsSync, readFileSync, rmSync } from "fs";
import { LabHost, LabSite, REPO_MOUNT, boot, check, hostPids, isAlive, run, sleep, waitForSsh } from "../machines";
import { DrillLab, mustOnHost, onHost, recordOf } from "./context";

export interface Fault {
    /** What is done, for the report. */
    readonly what: string;
    inject(): Promise<void>;
    undo(): Promise<void>;
}

/** Starts a unit again unless it runs (systemd may have restarted it already: Restart=on-abnormal). */
async function ensureStarted(lab: DrillLab, host: LabHost, unit: string): Promise<void> {
    await mustOnHost(
        lab,
        host,
        `systemctl is-active --quiet ${unit} || { systemctl reset-failed ${unit} 2>/dev/null; systemctl start ${unit}; }`,
        120_000,
    );
}

/**
 * Every process of a unit killed at once (`systemctl kill` signals the whole cgroup): a crash. Killing
 * the main PID alone is not one: Zabbix's children keep heart-beating for minutes.
 */
export function killUnit(lab: DrillLab, host: LabHost, unit: string): Fault {
    return {
        what: `SIGKILL to every process of ${unit} on ${host.name}`,
        inject: async () => {
            await mustOnHost(lab, host, `systemctl kill --signal=SIGKILL ${unit}`);
        },
        undo: () => ensureStarted(lab, host, unit),
    };
}

/** A unit killed and kept down: a runtime drop-in (gone at reboot, removed by the undo) overrides Restart=. */
export function killUnitAndHoldDown(lab: DrillLab, host: LabHost, unit: string): Fault {
    const dropIn = `/run/systemd/system/${unit}.service.d/zha-drill.conf`;
    return {
        what: `SIGKILL to every process of ${unit} on ${host.name}, held down (systemd's Restart= suspended)`,
        inject: async () => {
            await mustOnHost(
                lab,
                host,
                `mkdir -p ${dropIn.replace(/\/[^/]+$/, "")} && printf '[Service]\\nRestart=no\\n' > ${dropIn} && systemctl daemon-reload && systemctl kill --signal=SIGKILL ${unit}`,
            );
        },
        undo: async () => {
            await mustOnHost(
                lab,
                host,
                `rm -f ${dropIn} && rmdir --ignore-fail-on-non-empty ${dropIn.replace(/\/[^/]+$/, "")} 2>/dev/null; systemctl daemon-reload`,
            );
            await ensureStarted(lab, host, unit);
        },
    };
}

/** A graceful stop: the unit's processes shut down as on a planned restart. */
export function stopUnit(lab: DrillLab, host: LabHost, unit: string): Fault {
    return {
        what: `systemctl stop ${unit} on ${host.name}`,
        inject: async () => {
            await mustOnHost(lab, host, `systemctl stop ${unit}`, 120_000);
        },
        undo: () => ensureStarted(lab, host, unit),
    };
}

const routerIp = (lab: DrillLab, ...args: string[]) => check("ip", ["-n", lab.topo.routerNetns, ...args]);

/** The router's bridge of a site: the link that holds the site's gateway address. */
async function siteBridge(lab: DrillLab, site: LabSite): Promise<string> {
    const links = JSON.parse((await routerIp(lab, "-j", "-4", "addr", "show")).stdout) as {
        ifname: string;
        addr_info: { local: string }[];
    }[];
    const bridge = links.find(l => l.addr_info.some(a => a.local === site.gateway));
    if (!bridge) {
        throw new Error(`no link in ${lab.topo.routerNetns} holds site ${site.name}'s gateway ${site.gateway}`);
    }
    return bridge.ifname;
}

/**
 * Every link of a site cut: its bridge in the router goes down, so its hosts reach nothing beyond
 * it and nothing reaches them (the router answers "unreachable" to senders; the hosts hear nothing).
 */
export function isolateSite(lab: DrillLab, site: LabSite): Fault {
    let bridge: string | undefined;
    return {
        what: `site ${site.name} cut off (its bridge in the router down)`,
        inject: async () => {
            bridge = await siteBridge(lab, site);
            await routerIp(lab, "link", "set", bridge, "down");
        },
        undo: async () => {
            // Bringing the bridge up restores its connected route along with the gateway address.
            await routerIp(lab, "link", "set", bridge ?? (await siteBridge(lab, site)), "up");
        },
    };
}

/** Priority of the drill's rules in the router: before the main table, away from anything else. */
const CUT_PRIORITY = "900";

/**
 * The sites cannot reach each other (packets between their networks silently dropped, like a dead
 * WAN), while each still reaches the machine in the admin network: its users.
 */
export function cutBetweenSites(lab: DrillLab): Fault {
    const pairs = lab.topo.sites.flatMap(a => lab.topo.sites.filter(b => b !== a).map(b => [a.network, b.network]));
    return {
        what: `every pair of sites cut (${pairs.length} blackhole rules in the router; the admin network still reaches each site)`,
        inject: async () => {
            for (const [from, to] of pairs) {
                await routerIp(lab, "rule", "add", "from", from, "to", to, "blackhole", "priority", CUT_PRIORITY);
            }
        },
        undo: async () => {
            for (const [from, to] of pairs) {
                await run("ip", [
                    "-n",
                    lab.topo.routerNetns,
                    "rule",
                    "del",
                    "from",
                    from,
                    "to",
                    to,
                    "blackhole",
                    "priority",
                    CUT_PRIORITY,
                ]);
            }
        },
    };
}

/** The repository directory a host's nspawn bind-mounts, read from its command line (a reboot needs it again). */
function repositoryOf(pid: number): string {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const bind = args.find(a => a.startsWith("--bind-ro=") && a.endsWith(`:${REPO_MOUNT}`));
    if (!bind) {
        throw new Error(`pid ${pid} is not a lab host's systemd-nspawn (no repository bind mount)`);
    }
    return bind.slice("--bind-ro=".length, -`:${REPO_MOUNT}`.length);
}

/**
 * A host's power cut: nspawn and every process of the container killed at once, no shutdown. The
 * overlay stays mounted (the disk survives; the machine's page cache means nothing written is lost,
 * unlike a real power cut). The undo boots the host again and waits for its SSH.
 */
export function powerOff(lab: DrillLab, host: LabHost): Fault {
    const rec = recordOf(lab, host);
    let repository: string | undefined;
    return {
        what: `${host.name} powered off (SIGKILL to nspawn and every process in its cgroups), then booted again`,
        inject: async () => {
            repository = repositoryOf(rec.pid!);
            for (let i = 0; i < 40 && hostPids(rec).length > 0; i++) {
                for (const pid of hostPids(rec)) {
                    try {
                        process.kill(pid, "SIGKILL");
                    } catch {
                        // gone already
                    }
                }
                await sleep(i === 0 ? 0 : 250);
            }
            if (hostPids(rec).length > 0) {
                throw new Error(`${host.name}: processes survive SIGKILL: ${hostPids(rec).join(" ")}`);
            }
        },
        undo: async () => {
            if (rec.pid && isAlive(rec.pid)) {
                return;
            }
            // What nspawn leaves when killed; a new nspawn for the same machine refuses to start over it.
            for (const leftover of [
                `/run/systemd/nspawn/propagate/${rec.machine}`,
                `/run/systemd/nspawn/unix-export/${rec.machine}`,
            ]) {
                if (existsSync(leftover)) {
                    rmSync(leftover, { recursive: true, force: true });
                }
            }
            if (!repository) {
                throw new Error(
                    `${host.name} is down, but not by this drill (its nspawn was never read): boot it with \`npm run lab -- up\``,
                );
            }
            rec.pid = boot(rec, repository);
            lab.stateFile.write(lab.state);
            await waitForSsh(rec, lab.paths.sshKey, 120_000);
        },
    };
}

/** Whether systemd inside a host has finished starting its units (after a reboot). */
export async function bootFinished(lab: DrillLab, host: LabHost): Promise<boolean> {
    const out = await onHost(lab, host, "systemctl is-system-running", 10_000);
    return /^(running|degraded)/.test(out.stdout.trim());
}
