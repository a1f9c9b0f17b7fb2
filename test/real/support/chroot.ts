/**
 * Programs of another Debian release run from a root directory with chroot, never booted: the
 * mounts a root needs (proc, dev, a tmpfs for POSIX shared memory), running a program in it as one
 * of its own users, and teardown that ends every process rooted there before it unmounts.
 *
 * A root's users have its own uids (zabbix is not the same number here and there), so users are
 * looked up in the root's /etc/passwd and handed to chroot by number.
 */
import { readFileSync, readdirSync, readlinkSync } from "fs";
import { chown, mkdir, writeFile, chmod } from "fs/promises";
import * as path from "path";
import { mountsUnder as mountedUnder } from "../../../tools/lab/machines/hosts";
import { Daemon, RunOptions, RunResult, ok, run, sleep, startDaemon } from "./processes";

/** The PATH of a Debian root's programs. */
const ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Mount points at or below `dir` (the lab's reading of mountinfo), deepest first: the order to unmount them in. */
export function mountsUnder(dir: string): string[] {
    return [...new Set(mountedUnder(dir))].sort((a, b) => b.length - a.length);
}

/** `mount ARGS`, throwing with what mount printed. */
export async function mount(args: readonly string[]): Promise<void> {
    ok(await run("mount", args));
}

/**
 * Unmounts everything at or below `dir`, deepest first, lazily where a plain unmount fails; throws
 * when anything is still mounted there, so the caller never removes files through a mount.
 */
export async function unmountAll(dir: string): Promise<void> {
    for (const point of mountsUnder(dir)) {
        const plain = await run("umount", [point]);
        if (plain.code !== 0) {
            await run("umount", ["-l", point]);
        }
    }
    const left = mountsUnder(dir);
    if (left.length > 0) {
        throw new Error(`still mounted after unmounting: ${left.join(", ")}`);
    }
}

/**
 * PIDs of the live processes whose root directory is `dir` (what chroot started there, and their
 * children); a zombie's root cannot be read, and it needs no ending.
 */
function processesRootedAt(dir: string): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync("/proc").filter(e => /^\d+$/.test(e))) {
        try {
            if (readlinkSync(`/proc/${entry}/root`) === dir) {
                pids.push(Number(entry));
            }
        } catch {
            // gone meanwhile, or a kernel thread
        }
    }
    return pids;
}

/** SIGTERM to every process rooted at `dir`, then SIGKILL to what is left after `graceMs`. */
export async function endProcessesRootedAt(dir: string, graceMs = 10_000): Promise<void> {
    const signal = (name: NodeJS.Signals) =>
        processesRootedAt(dir).forEach(pid => {
            try {
                process.kill(pid, name);
            } catch {
                // exited meanwhile
            }
        });
    signal("SIGTERM");
    const deadline = Date.now() + graceMs;
    while (processesRootedAt(dir).length > 0 && Date.now() < deadline) {
        await sleep(100);
    }
    signal("SIGKILL");
    const killed = Date.now() + 10_000;
    while (processesRootedAt(dir).length > 0 && Date.now() < killed) {
        await sleep(100);
    }
}

/** Mounts what programs in a root expect besides its files: /proc, the host's /dev, and a /dev/shm of its own. */
export async function mountSystemDirs(root: string): Promise<void> {
    await mount(["-t", "proc", "proc", path.join(root, "proc")]);
    await mount(["--bind", "/dev", path.join(root, "dev")]);
    // PostgreSQL's dynamic shared memory and PHP's opcache live here; the host's stays out of reach.
    await mount(["-t", "tmpfs", "-o", "mode=1777,size=256m", "tmpfs", path.join(root, "dev/shm")]);
}

/** What a chroot'ed program runs as, and where. */
export interface ChrootRunOptions extends Omit<RunOptions, "user"> {
    /** A user of the root (looked up in its /etc/passwd); root when omitted. */
    readonly user?: string;
}

/** One root directory whose programs run under chroot. */
export class Chroot {
    constructor(
        /** The root directory on this machine. */
        public readonly dir: string,
    ) {}

    /** Where a path of the root is on this machine. */
    path(inRoot: string): string {
        return path.join(this.dir, inRoot);
    }

    /** uid, gid and home of a user of the root. */
    user(name: string): { uid: number; gid: number; home: string } {
        const line = readFileSync(this.path("/etc/passwd"), "utf8")
            .split("\n")
            .find(l => l.startsWith(`${name}:`));
        if (!line) {
            throw new Error(`user ${name} does not exist in ${this.dir}: the package that creates it is not installed`);
        }
        const [, , uid, gid, , home] = line.split(":");
        return { uid: Number(uid), gid: Number(gid), home };
    }

    /** The text of a file of the root. */
    read(inRoot: string): string {
        return readFileSync(this.path(inRoot), "utf8");
    }

    /** Writes a file of the root (its directory made as needed), owned by "user" or "user:group" of the root. */
    async put(inRoot: string, content: string, mode = 0o644, owner = "root"): Promise<string> {
        const file = this.path(inRoot);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, content);
        await chmod(file, mode);
        const [user, group] = owner.split(":");
        await chown(file, this.user(user).uid, group ? this.group(group) : this.user(user).gid);
        return inRoot;
    }

    /** A directory of the root, made with its parents, owned by a user of the root. */
    async mkdir(inRoot: string, owner = "root", mode = 0o755): Promise<string> {
        const dir = this.path(inRoot);
        await mkdir(dir, { recursive: true });
        await chmod(dir, mode);
        await chown(dir, this.user(owner).uid, this.user(owner).gid);
        return inRoot;
    }

    /** The root's groups: name, gid and members. */
    private groups(): { name: string; gid: number; members: string[] }[] {
        return readFileSync(this.path("/etc/group"), "utf8")
            .split("\n")
            .filter(Boolean)
            .map(l => l.split(":"))
            .map(([name, , gid, members]) => ({ name, gid: Number(gid), members: (members ?? "").split(",") }));
    }

    private group(name: string): number {
        const found = this.groups().find(g => g.name === name);
        if (!found) {
            throw new Error(`group ${name} does not exist in ${this.dir}`);
        }
        return found.gid;
    }

    /** chroot's arguments for `program args`: the user by number, in `opts.cwd` of the root. */
    private argv(program: string, args: readonly string[], opts: ChrootRunOptions): string[] {
        const user = opts.user ? this.user(opts.user) : undefined;
        // Its supplementary groups too, as login would give them (postgres reads ssl-cert's key).
        const groups = () => [
            user!.gid,
            ...this.groups()
                .filter(g => g.members.includes(opts.user!))
                .map(g => g.gid),
        ];
        return [
            ...(user ? [`--userspec=${user.uid}:${user.gid}`, `--groups=${groups().join(",")}`] : []),
            this.dir,
            "/usr/bin/env",
            "-C",
            opts.cwd ?? "/",
            program,
            ...args,
        ];
    }

    /** The environment a program of the root gets: the root's PATH, the user's HOME, `opts.env`; nothing of this process's. */
    private options(opts: ChrootRunOptions): RunOptions {
        const { user, env, cwd: _cwd, ...rest } = opts;
        const home = user ? this.user(user).home : "/root";
        const name = user ?? "root";
        return {
            ...rest,
            clearEnv: true,
            env: { PATH: ROOT_PATH, HOME: home, USER: name, LOGNAME: name, ...env },
        };
    }

    /** Runs a program of the root to completion (as `sh` of the root, `php8.4` of the root...). */
    run(program: string, args: readonly string[], opts: ChrootRunOptions = {}): Promise<RunResult> {
        return run("chroot", this.argv(program, args, opts), this.options(opts));
    }

    /** Starts a program of the root in the background, in its own process group; the caller stops it. */
    start(name: string, program: string, args: readonly string[], opts: ChrootRunOptions = {}): Daemon {
        return startDaemon(name, "chroot", this.argv(program, args, opts), this.options(opts));
    }
}
