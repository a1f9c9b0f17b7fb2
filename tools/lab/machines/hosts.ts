/**
 * The lab's hosts: one overlayfs per host on the shared base, given its own identity (machine-id,
 * SSH host keys, hostname), booted by systemd-nspawn with real systemd as PID 1 inside the host's
 * network namespace. PID 1 of this machine is not systemd, so nspawn is started in cgroups of the
 * lab's own (one per host) and supervised by PID, not by machinectl.
 */
import { spawn } from "child_process";
import { randomBytes } from "crypto";
import {
    chmodSync,
    closeSync,
    existsSync,
    openSync,
    readFileSync,
    readdirSync,
    rmSync,
    rmdirSync,
    statSync,
    writeFileSync,
} from "fs";
import * as path from "path";
import { check, run, sleep } from "./run";
import { installHostKey } from "./hostKeys";
import { LAB_PREFIX, REPO_MOUNT, ensureDir } from "./settings";
import { sshRun } from "./ssh";
import { labSuite } from "./image";
import { HostRecord, LabImage, LabImages, LabState, StateFile, isAlive } from "./state";
import { LabHost, Topology } from "./topology";

/** cgroup hierarchies nspawn needs a place of its own in: the hybrid layout's two, or unified alone. */
function cgroupRoots(): string[] {
    if (existsSync("/sys/fs/cgroup/cgroup.controllers")) {
        return ["/sys/fs/cgroup"];
    }
    return ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"].filter(d => existsSync(path.join(d, "cgroup.procs")));
}

export function hostRecord(host: LabHost, runRoot: string, logs: string): HostRecord {
    const runDir = path.join(runRoot, host.name);
    return {
        name: host.name,
        site: host.site,
        address: host.address,
        roles: host.roles,
        netns: host.netns,
        veth: "eth0",
        runDir,
        rootDir: path.join(runDir, "root"),
        machine: `${LAB_PREFIX}-${host.name}`,
        cgroups: cgroupRoots().map(r => path.join(r, LAB_PREFIX, host.name)),
        consoleLog: path.join(logs, `${host.name}.console.log`),
    };
}

/** Mounts the host's overlay and writes what makes it this host and not the base. */
async function prepareRoot(
    rec: HostRecord,
    base: string,
    topo: Topology,
    publicKey: string,
    hostKeys: string,
): Promise<void> {
    const mounted = mountsUnder(rec.runDir);
    if (mounted.length > 0) {
        throw new Error(
            `${mounted.join(", ")} is mounted but not in the lab's records; unmount it (umount ${mounted[0]}) if it is a leftover`,
        );
    }
    rmSync(rec.runDir, { recursive: true, force: true });
    const upper = ensureDir(path.join(rec.runDir, "upper"));
    const work = ensureDir(path.join(rec.runDir, "work"));
    ensureDir(rec.rootDir);
    await check("mount", [
        "-t",
        "overlay",
        "overlay",
        "-o",
        `lowerdir=${base},upperdir=${upper},workdir=${work}`,
        rec.rootDir,
    ]);
    const at = (p: string) => path.join(rec.rootDir, p);
    writeFileSync(at("etc/machine-id"), `${randomBytes(16).toString("hex")}\n`);
    writeFileSync(at("etc/hostname"), `${rec.name}\n`);
    writePeers(rec, topo);
    // The pinned ed25519 key first (up and apply made it before planning); -A makes only the types still missing.
    installHostKey(hostKeys, rec.name, rec.rootDir);
    await check("ssh-keygen", ["-A", "-f", rec.rootDir]);
    writeFileSync(at("root/.ssh/authorized_keys"), publicKey, { mode: 0o600 });
    chmodSync(at("root/.ssh/authorized_keys"), 0o600);
}

/** The host's /etc/hosts: every lab host by name (rewritten in running hosts when the lab's hosts change). */
export function writePeers(rec: HostRecord, topo: Pick<Topology, "hosts">): void {
    const peers = topo.hosts.map(h => `${h.address}\t${h.name}`).join("\n");
    writeFileSync(
        path.join(rec.rootDir, "etc/hosts"),
        `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${peers}\n`,
    );
}

/** Starts systemd-nspawn detached, after moving itself into the host's own cgroups. */
export function boot(rec: HostRecord, repoPool: string): number {
    for (const dir of rec.cgroups) {
        ensureDir(dir);
    }
    const moves = rec.cgroups.map(dir => `echo $$ > '${dir}/cgroup.procs'`).join(" && ");
    const args = [
        "-b",
        "-D",
        rec.rootDir,
        "-M",
        rec.machine,
        `--hostname=${rec.name}`,
        "--register=no",
        "--keep-unit",
        `--network-namespace-path=/run/netns/${rec.netns}`,
        // The host firewall loads its nftables table: the capability reaches only the host's own namespace.
        "--capability=CAP_NET_ADMIN",
        "--console=read-only",
        "--resolv-conf=off",
        "--timezone=off",
        "--link-journal=no",
        `--bind-ro=${repoPool}:${REPO_MOUNT}`,
    ];
    const out = openSync(rec.consoleLog, "w");
    const child = spawn("sh", ["-c", `${moves} && exec systemd-nspawn "$@"`, "sh", ...args], {
        detached: true,
        stdio: ["ignore", out, out],
    });
    closeSync(out);
    child.unref();
    if (!child.pid) {
        throw new Error(`${rec.name}: could not start systemd-nspawn`);
    }
    return child.pid;
}

function consoleTail(rec: HostRecord): string {
    if (!existsSync(rec.consoleLog)) {
        return "(no console output)";
    }
    return readFileSync(rec.consoleLog, "utf8").split("\n").slice(-15).join("\n");
}

/** Waits until sshd in the host answers with the lab's key. */
export async function waitForSsh(rec: HostRecord, key: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (rec.pid && !isAlive(rec.pid)) {
            throw new Error(`${rec.name}: systemd-nspawn exited during boot; console:\n${consoleTail(rec)}`);
        }
        const out = await sshRun({
            host: rec.address,
            port: 22,
            user: "root",
            key,
            command: "true",
            connectTimeout: 2,
        });
        if (out.code === 0) {
            return;
        }
        if (Date.now() > deadline) {
            throw new Error(
                `${rec.name}: no SSH on ${rec.address} after ${timeoutMs / 1000} s: ${out.stderr.trim()}\nconsole:\n${consoleTail(rec)}`,
            );
        }
        await sleep(300);
    }
}

/** Where a host's pieces come from: its release's base and repository, the lab's key, the run and log directories. */
export interface BootInputs {
    readonly images: LabImages;
    readonly key: string;
    readonly publicKey: string;
    /** Where the hosts' SSH host keys are kept (hostKeys.ts): each host boots with the key the plan pins. */
    readonly hostKeys: string;
    readonly runRoot: string;
    readonly logs: string;
}

/** Prepares, boots and waits for the given hosts (default: every host); records each before it exists. */
export async function startHosts(
    topo: Topology,
    file: StateFile,
    state: LabState,
    opts: BootInputs,
    hosts: readonly LabHost[] = topo.hosts,
): Promise<void> {
    ensureDir(opts.logs);
    const records = hosts.map(h => ({ rec: hostRecord(h, opts.runRoot, opts.logs), image: imageOf(h, opts.images) }));
    for (const { rec, image } of records) {
        state.hosts.push(rec);
        file.write(state);
        await prepareRoot(rec, image.base, topo, opts.publicKey, opts.hostKeys);
        const root = statSync(rec.rootDir);
        rec.lockFile = `/run/systemd/nspawn/locks/inode-${root.dev}:${root.ino}`;
        rec.pid = boot(rec, image.repository);
        file.write(state);
    }
    await Promise.all(records.map(({ rec }) => waitForSsh(rec, opts.key, 90_000)));
}

/** The image a host boots: its OS's Debian release's, which `up` built for the config's hosts. */
export function imageOf(host: Pick<LabHost, "name" | "os">, images: LabImages): LabImage {
    const suite = labSuite(host.os);
    const image = suite === undefined ? undefined : images[suite];
    if (!image) {
        throw new Error(
            `host ${host.name} runs ${host.os}, and the running lab has no image of it (it has ${Object.keys(images).join(", ") || "none"}): ` +
                "`npm run lab -- up` with this config builds one",
        );
    }
    return image;
}

/** PIDs in a cgroup and every cgroup below it. */
function cgroupPids(dir: string): number[] {
    if (!existsSync(dir)) {
        return [];
    }
    const own = readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
    const below = readdirSync(dir)
        .filter(d => statSync(path.join(dir, d)).isDirectory())
        .flatMap(d => cgroupPids(path.join(dir, d)));
    return [...own, ...below];
}

/** Every PID of a host: nspawn and the container's processes. */
export function hostPids(rec: HostRecord): number[] {
    return [...new Set(rec.cgroups.flatMap(cgroupPids))];
}

function removeCgroupTree(dir: string): void {
    if (!existsSync(dir)) {
        return;
    }
    for (const d of readdirSync(dir)) {
        if (statSync(path.join(dir, d)).isDirectory()) {
            removeCgroupTree(path.join(dir, d));
        }
    }
    rmdirSync(dir);
}

function isOurNspawn(rec: HostRecord): boolean {
    if (!rec.pid || !isAlive(rec.pid)) {
        return false;
    }
    try {
        const cmdline = readFileSync(`/proc/${rec.pid}/cmdline`, "utf8").split("\0");
        return cmdline.some(a => a.endsWith("systemd-nspawn")) && cmdline.includes(rec.machine);
    } catch {
        return false;
    }
}

/** Mount points at or below `dir`, in the order they were mounted (/proc/self/mountinfo's). */
export function mountsUnder(dir: string): string[] {
    const lines = readFileSync("/proc/self/mountinfo", "utf8").split("\n");
    return lines.map(l => l.split(" ")[4]).filter(m => m && (m === dir || m.startsWith(`${dir}/`)));
}

/** Stops a host: orderly shutdown first, then whatever is left in its cgroups; unmounts and cleans up. */
export async function stopHost(rec: HostRecord, log: (line: string) => void): Promise<string[]> {
    const problems: string[] = [];
    if (isOurNspawn(rec)) {
        // nspawn turns SIGTERM into an orderly shutdown of the container's systemd.
        process.kill(rec.pid!, "SIGTERM");
        const deadline = Date.now() + 30_000;
        while (isAlive(rec.pid!) && Date.now() < deadline) {
            await sleep(200);
        }
        if (isAlive(rec.pid!)) {
            process.kill(rec.pid!, "SIGKILL");
        }
        log(`stopped ${rec.name}`);
    }
    // Anything still in the host's cgroups is the lab's by construction.
    for (let i = 0; i < 20 && hostPids(rec).length > 0; i++) {
        for (const pid of hostPids(rec)) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // already gone
            }
        }
        await sleep(250);
    }
    for (const dir of rec.cgroups) {
        try {
            removeCgroupTree(dir);
        } catch (err) {
            problems.push(`cgroup ${dir}: ${(err as Error).message}`);
        }
    }
    for (const mount of mountsUnder(rec.runDir).reverse()) {
        let out = await run("umount", [mount]);
        if (out.code !== 0) {
            await sleep(1000);
            out = await run("umount", [mount]);
        }
        if (out.code !== 0) {
            problems.push(`umount ${mount}: ${out.stderr.trim()}`);
        }
    }
    if (mountsUnder(rec.runDir).length === 0) {
        rmSync(rec.runDir, { recursive: true, force: true });
    }
    const leftovers = [
        `/run/systemd/nspawn/propagate/${rec.machine}`,
        `/run/systemd/nspawn/unix-export/${rec.machine}`,
        ...(rec.lockFile ? [rec.lockFile] : []),
    ];
    for (const leftover of leftovers) {
        rmSync(leftover, { recursive: true, force: true });
    }
    return problems;
}

/** The lab's parent cgroups (one per hierarchy), removed once every host's is gone. */
export function removeLabCgroups(): void {
    for (const root of cgroupRoots()) {
        const dir = path.join(root, LAB_PREFIX);
        if (existsSync(dir) && readdirSync(dir).every(d => !statSync(path.join(dir, d)).isDirectory())) {
            rmdirSync(dir);
        }
    }
}

/** A process's memory from smaps_rollup, in KiB (0 when it is gone): PSS and RSS. */
function processKiB(pid: number): { pss: number; rss: number } {
    try {
        const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
        const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
        return { pss: field("Pss"), rss: field("Rss") };
    } catch {
        return { pss: 0, rss: 0 };
    }
}

export interface HostMemory {
    /** Sum of the PSS of the host's processes (shared pages split among their sharers), MiB. */
    readonly pssMiB: number;
    /** Sum of their RSS (shared pages counted in every process): an upper bound, MiB. */
    readonly rssMiB: number;
}

/** Memory of each host's processes: everything in its cgroups, nspawn included. */
export function hostMemory(records: readonly HostRecord[]): Map<string, HostMemory> {
    return new Map(
        records.map(rec => {
            const sums = hostPids(rec)
                .map(processKiB)
                .reduce((a, b) => ({ pss: a.pss + b.pss, rss: a.rss + b.rss }), { pss: 0, rss: 0 });
            return [rec.name, { pssMiB: sums.pss / 1024, rssMiB: sums.rss / 1024 }];
        }),
    );
}
