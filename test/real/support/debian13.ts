/**
 * A Debian 13 root with Zabbix 7.0 and the programs that read the library's files on a Debian 13
 * host, for the real-program checks of this Debian 12 machine. Built once with the lab's own image
 * code (debootstrap from this machine's mirrors, a flat repository resolved with apt state of its
 * own), installed by chroot with service starts denied, and cached by the hash of its inputs, which
 * is written last: a half-built root is never used. It lives in a cache directory of its own beside
 * the lab's (the lab test runs in another jest worker at the same time), under a lock file, so two
 * workers never build it at once.
 *
 * Each test file then works in sessions: an overlay of the root (its writes go to a scratch upper
 * directory, the cached root stays as built), with /proc and /dev mounted, torn down in afterAll.
 */
import {
    closeSync,
    existsSync,
    mkdirSync,
    openSync,
    readFileSync,
    readdirSync,
    renameSync,
    rmSync,
    statSync,
    writeFileSync,
} from "fs";
import * as path from "path";
import { packagesFor } from "../../../components/host";
import { platformFor } from "../../../components/platform";
import { BaseImage, ensureBase, hashOf, labSuite, readHash } from "../../../tools/lab/machines/image";
import { ensureRepository } from "../../../tools/lab/machines/repository";
import { REPO_MOUNT, cachePaths } from "../../../tools/lab/machines/settings";
import { isAlive } from "../../../tools/lab/machines/state";
import { Chroot, endProcessesRootedAt, mount, mountSystemDirs, mountsUnder, unmountAll } from "./chroot";
import { ok, run, sleep } from "./processes";
import { Scratch } from "./scratch";
import { requireTool } from "./tools";

/** The platform the root is: Debian 13, PostgreSQL 17, PHP 8.4, Debian's own Zabbix 7.0. */
export const DEBIAN13 = platformFor("debian13");

/**
 * What the root holds: what a Debian 13 host with every role installs from Debian's own archive
 * (the library's own package list, jq included: a frontend host runs the API scripts). No Zabbix
 * proxy: its package conflicts with the server's, and apt would remove the server for it.
 */
export const ROOT_PACKAGES = packagesFor({
    os: "debian13",
    roles: ["db", "zabbix-server", "frontend", "lb"],
    zabbixVersion: "7.0",
    packageSource: "distribution",
});

/**
 * A Debian 13 root of its own for the proxy and agent 2: Debian's zabbix-proxy-sqlite3 conflicts
 * with zabbix-server-pgsql (apt would remove the server for it), as on a real host.
 */
export const PROXY_ROOT_PACKAGES = packagesFor({
    os: "debian13",
    roles: ["proxy", "agent"],
    zabbixVersion: "7.0",
    packageSource: "distribution",
});

/** One kind of Debian 13 root: its cache directory's name, its packages, and a file only a finished install has. */
export interface Debian13RootKind {
    readonly name: string;
    readonly packages: readonly string[];
    readonly installedFile: string;
}

/** The server root (every role but the proxy's and the agent's) and the proxy root. */
export const SERVER_ROOT: Debian13RootKind = {
    name: "real-debian13",
    packages: ROOT_PACKAGES,
    installedFile: "usr/sbin/zabbix_server",
};
export const PROXY_ROOT: Debian13RootKind = {
    name: "real-debian13-proxy",
    packages: PROXY_ROOT_PACKAGES,
    installedFile: "usr/sbin/zabbix_proxy",
};

/** Everything besides the base and the packages that shapes the installed root. */
const INSTALL_RECIPE = {
    revision: 1,
    // invoke-rc.d asks this before starting a service; 101 is "denied". Without it, a chroot (no
    // systemd running) falls back to the init.d scripts and starts PostgreSQL, nginx, php-fpm.
    policyRcD: "#!/bin/sh\nexit 101\n",
};

/** Where the Debian 13 root of the real checks is kept: a directory of its own in the lab's cache. */
export function debian13Cache(root = cachePaths().root, kind: Debian13RootKind = SERVER_ROOT) {
    const dir = path.join(root, kind.name);
    return {
        dir,
        base: path.join(dir, "base"),
        repo: path.join(dir, "repo"),
        roots: path.join(dir, "roots"),
        sessions: path.join(dir, "sessions"),
        lock: path.join(dir, "lock"),
    } as const;
}

/** The installed root, as it is cached. */
export interface Debian13Root {
    readonly rootfs: string;
    readonly hash: string;
    /** Whether this call built it (a cold run) rather than found it. */
    readonly built: boolean;
    /** Seconds this call took to have it. */
    readonly seconds: number;
    /** The cache it lives in (its sessions go there too). */
    readonly cache: ReturnType<typeof debian13Cache>;
}

function log(line: string): void {
    process.stdout.write(`[debian13 root] ${line}\n`);
}

/** Fails naming what to install or do when this machine cannot build or enter the root. */
function requireMachine(): void {
    if (process.getuid?.() !== 0) {
        throw new Error("the Debian 13 checks must run as root: they debootstrap, mount an overlay and chroot into it");
    }
    ["debootstrap", "apt-ftparchive", "mount", "umount", "chroot", "cp"].forEach(requireTool);
}

/**
 * Holds `lock` (a file made with O_EXCL holding this process's PID) while `body` runs. Another
 * worker holding it is waited for; a lock whose process is gone is taken over.
 */
async function withLock<T>(lock: string, body: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + 30 * 60_000;
    for (;;) {
        try {
            const fd = openSync(lock, "wx");
            writeFileSync(fd, `${process.pid}\n`);
            closeSync(fd);
            break;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
                throw e;
            }
        }
        const text = readIfThere(lock);
        const holder = Number(text.trim());
        // Empty: its maker is between creating and writing it, unless that was long ago (a crash).
        const stale = holder ? !isAlive(holder) : Date.now() - mtimeOf(lock) > 10_000;
        if (stale && readIfThere(lock) === text) {
            rmSync(lock, { force: true });
            continue;
        }
        if (Date.now() > deadline) {
            throw new Error(`${lock} is held by pid ${holder} for half an hour: remove it if that process is stuck`);
        }
        await sleep(1_000);
    }
    try {
        return await body();
    } finally {
        rmSync(lock, { force: true });
    }
}

/** A file's text, or "" when it is gone meanwhile. */
function readIfThere(file: string): string {
    try {
        return readFileSync(file, "utf8");
    } catch {
        return "";
    }
}

/** A file's modification time in ms, or now when it is gone meanwhile. */
function mtimeOf(file: string): number {
    try {
        return statSync(file).mtimeMs;
    } catch {
        return Date.now();
    }
}

/** Installs the packages into a copy of the base by chroot, the repository bind-mounted where the base's apt looks. */
async function install(build: string, base: BaseImage, pool: string, packages: readonly string[]): Promise<void> {
    const rootfs = path.join(build, "rootfs");
    mkdirSync(build, { recursive: true });
    ok(await run("cp", ["-a", "--reflink=auto", base.rootfs, rootfs], { timeoutMs: 10 * 60_000 }));
    writeFileSync(path.join(rootfs, "usr/sbin/policy-rc.d"), INSTALL_RECIPE.policyRcD, { mode: 0o755 });
    mkdirSync(path.join(rootfs, REPO_MOUNT), { recursive: true });
    const root = new Chroot(rootfs);
    try {
        await mount(["--bind", "-o", "ro", pool, path.join(rootfs, REPO_MOUNT)]);
        await mountSystemDirs(rootfs);
        const env = { DEBIAN_FRONTEND: "noninteractive" };
        ok(await root.run("apt-get", ["update", "-q"], { env, timeoutMs: 10 * 60_000 }));
        ok(
            await root.run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...packages], {
                env,
                timeoutMs: 20 * 60_000,
            }),
        );
    } finally {
        await endProcessesRootedAt(rootfs);
        await unmountAll(build);
    }
    // The lists name the repository's mount; a session never runs apt.
    for (const f of readdirSync(path.join(rootfs, "var/lib/apt/lists")).filter(f => f !== "partial")) {
        rmSync(path.join(rootfs, "var/lib/apt/lists", f), { recursive: true, force: true });
    }
}

/** Removes a directory unless something is mounted below it (a bound /dev would be emptied with it). */
async function removeUnmounted(dir: string): Promise<void> {
    await unmountAll(dir);
    rmSync(dir, { recursive: true, force: true });
}

/** Removes installed roots of other inputs that no live session lies on. */
function pruneRoots(roots: string, sessions: string, keep: string): void {
    const inUse = new Set(
        (existsSync(sessions) ? readdirSync(sessions) : [])
            .map(s => /^(\d+)-([0-9a-f]+)-/.exec(s))
            .filter((m): m is RegExpExecArray => m !== null && isAlive(Number(m[1])))
            .map(m => m[2]),
    );
    for (const entry of readdirSync(roots).filter(e => e !== keep && !inUse.has(e))) {
        if (mountsUnder(path.join(roots, entry)).length === 0) {
            rmSync(path.join(roots, entry), { recursive: true, force: true });
        }
    }
}

/**
 * The cached Debian 13 root with ROOT_PACKAGES installed: built when its inputs changed (about a
 * minute and a half, most of it debootstrap and dpkg), else found at once. Prints the figure.
 */
export async function ensureDebian13Root(
    kind: Debian13RootKind = SERVER_ROOT,
    cache = debian13Cache(undefined, kind),
): Promise<Debian13Root> {
    const packages = [...kind.packages];
    requireMachine();
    const started = Date.now();
    const suite = labSuite("debian13")!;
    mkdirSync(cache.dir, { recursive: true });
    return withLock(cache.lock, async () => {
        const waited = (Date.now() - started) / 1000;
        const stage = timer();
        mkdirSync(cache.roots, { recursive: true });
        const base = await ensureBase(cache.base, suite, log);
        const baseSeconds = stage();
        const repo = await ensureRepository(cache.repo, base, [packages], log);
        const repoSeconds = stage();
        const hash = hashOf({ base: base.hash, repository: repo.hash, packages, ...INSTALL_RECIPE });
        const home = path.join(cache.roots, hash);
        const rootfs = path.join(home, "rootfs");
        const seconds = () => (Date.now() - started) / 1000;
        const lock = waited >= 1 ? `, ${waited.toFixed(1)} s of it waiting for another worker's build` : "";
        if (readHash(home) === hash && existsSync(path.join(rootfs, kind.installedFile))) {
            log(`cached (${hash}): ready in ${seconds().toFixed(2)} s${lock}`);
            return { rootfs, hash, built: false, seconds: seconds(), cache };
        }
        log(`installing ${packages.length} packages and their dependencies into a copy of the ${suite} base`);
        const build = `${home}.build`;
        await removeUnmounted(build);
        await install(build, base, repo.dir, packages);
        await removeUnmounted(home);
        renameSync(build, home);
        writeFileSync(path.join(home, "inputs.hash"), `${hash}\n`);
        pruneRoots(cache.roots, cache.sessions, hash);
        const parts = `base ${baseSeconds.toFixed(1)} s, repository ${repoSeconds.toFixed(1)} s, install ${stage().toFixed(1)} s`;
        log(`built (${hash}) in ${seconds().toFixed(1)} s (${parts})${lock}`);
        return { rootfs, hash, built: true, seconds: seconds(), cache };
    });
}

/** Seconds since the last call (or since it was made), for the figures of a build's stages. */
function timer(): () => number {
    let last = Date.now();
    return () => {
        const now = Date.now();
        const seconds = (now - last) / 1000;
        last = now;
        return seconds;
    };
}

/** Unmounts and removes the sessions of processes that are gone (a worker killed before its afterAll). */
async function sweepSessions(sessions: string): Promise<void> {
    for (const entry of existsSync(sessions) ? readdirSync(sessions) : []) {
        const pid = Number(/^(\d+)-/.exec(entry)?.[1]);
        if (!pid || !isAlive(pid)) {
            const dir = path.join(sessions, entry);
            await endProcessesRootedAt(path.join(dir, "root"));
            await removeUnmounted(dir);
        }
    }
}

/**
 * A session of the root: an overlay whose writes stay in a directory of its own, with /proc and
 * /dev mounted, torn down (every process rooted there ended, everything unmounted, its files
 * removed) by the scratch space. Like a host: sessions share the network, not their files.
 */
export async function openSession(
    scratch: Scratch,
    root: Debian13Root,
    name: string,
    cache = root.cache,
): Promise<Chroot> {
    await sweepSessions(cache.sessions);
    const dir = path.join(cache.sessions, `${process.pid}-${root.hash}-${name}-${Date.now().toString(36)}`);
    const merged = path.join(dir, "root");
    for (const sub of ["upper", "work", "root"]) {
        mkdirSync(path.join(dir, sub), { recursive: true });
    }
    scratch.defer(`remove the ${name} session`, () => removeUnmounted(dir));
    scratch.defer(`unmount the ${name} session`, async () => {
        await endProcessesRootedAt(merged);
        await unmountAll(dir);
    });
    await mount([
        "-t",
        "overlay",
        "overlay",
        "-o",
        `lowerdir=${root.rootfs},upperdir=${path.join(dir, "upper")},workdir=${path.join(dir, "work")}`,
        merged,
    ]);
    await mountSystemDirs(merged);
    return new Chroot(merged);
}
