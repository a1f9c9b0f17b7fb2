/**
 * The lab's own records: everything `up` makes outside the cache's plain files (namespaces, veths,
 * mounts, processes, cgroups) is written here *before* it is made, so `down` can undo a lab that
 * crashed half-way, and never has to guess by name what is its own.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "fs";
import { Role } from "../../../components/config";
import type { StackState } from "../replay/state";
import { CachePaths, ensureDir } from "./settings";

/** What hosts of one Debian release boot from. */
export interface LabImage {
    /** The base's root, below every host's overlay. */
    readonly base: string;
    /** The flat repository's pool, bind-mounted read-only in every host. */
    readonly repository: string;
}

/** The images of a lab, by the Debian release (codename) of the hosts that boot them. */
export type LabImages = Readonly<Record<string, LabImage>>;

export interface HostRecord {
    readonly name: string;
    readonly site: string;
    readonly address: string;
    readonly roles: readonly Role[];
    readonly netns: string;
    /** The host's interface inside its namespace (its router end goes when the namespace does). */
    readonly veth: string;
    /** Directory holding the overlay's upper, work and merged directories. */
    readonly runDir: string;
    /** Where the host's overlay is mounted (the container's root). */
    readonly rootDir: string;
    /** Machine name given to systemd-nspawn. */
    readonly machine: string;
    /** cgroup directories made for the container, one per hierarchy nspawn uses. */
    readonly cgroups: readonly string[];
    /** nspawn's lock file for the container's root (named after its inode), which nspawn may leave behind. */
    lockFile?: string;
    /** PID of systemd-nspawn once started. */
    pid?: number;
    /** The container's console output. */
    readonly consoleLog: string;
}

export interface SiteRecord {
    readonly name: string;
    readonly network: string;
    readonly bridge: string;
}

export interface LabState {
    readonly version: 1;
    /** The stack settings file the lab runs (`apply --config` changes it). */
    configFile: string;
    readonly startedAt: string;
    /** Network namespaces made, the router's first. */
    netns: string[];
    /** Links made in the root namespace (the admin veth). */
    rootLinks: string[];
    /** Each site's bridge in the router namespace (the machine routes the site's network to it). */
    sites?: SiteRecord[];
    hosts: HostRecord[];
    /** Set once the plan has been applied. */
    deployed?: { readonly at: string; readonly pattern: string };
    /**
     * What later commands (drills) need of the applied plan and cannot plan again: its outputs (the
     * passwords it generated, which differ every time the stack is planned, are in `stack`). The
     * file is root's, 0600.
     */
    facts?: DeployedFacts;
    /**
     * The stack's record per resource URN (tools/lab/replay/state.ts), written after every finished
     * step of `up`'s deploy and of every `apply`: what `apply` plans the next change against, and
     * where the drills find the logins the plan set up.
     */
    stack?: StackState;
    /** The overrides the lab planned with, which `apply` plans with again. */
    plannedWith?: {
        /** `--pattern`, when given. */
        readonly pattern?: string;
        /** The managed PostgreSQL's admin password the lab made up (pattern 4). */
        readonly managedAdminPassword?: string;
    };
    /**
     * What the running hosts boot from, per Debian release (by codename): the base's root and the
     * repository's pool (bind-mounted in every host of that release).
     */
    images?: LabImages;
}

export interface DeployedFacts {
    /** The plan's stack outputs (topology, model, design). */
    readonly outputs: Record<string, unknown>;
}

export class StateFile {
    constructor(public readonly file: string) {}

    read(): LabState | undefined {
        if (!existsSync(this.file)) {
            return undefined;
        }
        try {
            return JSON.parse(readFileSync(this.file, "utf8")) as LabState;
        } catch (err) {
            throw new Error(
                `${this.file}: unreadable lab state (${(err as Error).message}); inspect it and remove it by hand`,
            );
        }
    }

    /** Writes atomically, so a crash never leaves half a record. */
    write(state: LabState): void {
        const tmp = `${this.file}.tmp`;
        writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
        renameSync(tmp, this.file);
    }

    remove(): void {
        rmSync(this.file, { force: true });
    }
}

/** A lock file holding the PID of the lab command that runs, so two never interleave. */
export function acquireLock(file: string): () => void {
    if (existsSync(file)) {
        const pid = Number(readFileSync(file, "utf8").trim());
        if (pid && pid !== process.pid && isAlive(pid)) {
            throw new Error(
                `another lab command (pid ${pid}) is running; wait for it, or remove ${file} if that process is not the lab`,
            );
        }
    }
    writeFileSync(file, `${process.pid}\n`);
    return () => rmSync(file, { force: true });
}

/** Runs `body` holding the lab's lock (made in the cache, which is made first). */
export async function withLock<T>(paths: CachePaths, body: () => Promise<T>): Promise<T> {
    ensureDir(paths.root);
    const release = acquireLock(paths.lock);
    try {
        return await body();
    } finally {
        release();
    }
}

/** Whether a process runs; a zombie (exited, not yet reaped by its parent) does not. */
export function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
    } catch {
        return false;
    }
    try {
        // The state follows the command name, which is in parentheses and may hold spaces.
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
        return false;
    }
}
