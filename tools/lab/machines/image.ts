/**
 * The base of every lab host of one Debian release: a debootstrap'd root shared read-only below each
 * host's overlay, made a template (no identity, apt pointed at the lab's repository). It is rebuilt
 * only when the hash of its inputs changes; the hash is written last, so a half-built base is never
 * reused. Its package repository is repository.ts's.
 */
import { createHash } from "crypto";
import { chmodSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "fs";
import * as path from "path";
import { OsFamily } from "../../../components/config";
import { platformFor } from "../../../components/platform";
import { check } from "./run";
import { REPO_MOUNT, ensureDir } from "./settings";
import { debianMirror } from "./sources";

/** The Debian release (by codename) a lab host of `os` boots, or undefined where the lab cannot build one. */
export function labSuite(os: OsFamily): string | undefined {
    const distro = platformFor(os).vendorDistro;
    return distro.name === "debian" ? distro.codename : undefined;
}

/** Everything that shapes a base besides its release; change anything here and every base is rebuilt. */
const BASE_RECIPE = {
    revision: 1,
    variant: "minbase",
    include: ["systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2", "ca-certificates"],
    // Timers that would wake up on an idle 2-core machine and fetch from a network the hosts cannot reach.
    masked: [
        "apt-daily.timer",
        "apt-daily-upgrade.timer",
        "dpkg-db-backup.timer",
        "e2scrub_all.timer",
        "fstrim.timer",
        "e2scrub_reap.service",
    ],
    sourcesList: `deb [trusted=yes] file:${REPO_MOUNT} ./\n`,
    // dpkg's fsyncs dominate package installs on a throw-away overlay; this changes no outcome.
    dpkgCfg: "force-unsafe-io\n",
};

export interface CacheLog {
    (line: string): void;
}

/** A short hash of a cache's inputs: its directory's name or its inputs.hash. */
export function hashOf(value: unknown): string {
    return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/** The inputs hash a cache directory was completed with, if it was. */
export function readHash(dir: string): string | undefined {
    const file = path.join(dir, "inputs.hash");
    return existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
}

export interface BaseImage {
    readonly rootfs: string;
    /** The Debian release it holds ("bookworm", "trixie"). */
    readonly suite: string;
    readonly hash: string;
    readonly built: boolean;
}

/** The shared base of one Debian release, in `<dir>/<suite>`: built once (about a minute), reused while its recipe is unchanged. */
export async function ensureBase(root: string, suite: string, log: CacheLog): Promise<BaseImage> {
    const dir = path.join(root, suite);
    // The single base of before (Debian 12 only) sat in `root` itself.
    rmSync(path.join(root, "rootfs"), { recursive: true, force: true });
    rmSync(path.join(root, "inputs.hash"), { force: true });
    const hash = hashOf({ ...BASE_RECIPE, suite });
    const rootfs = path.join(dir, "rootfs");
    if (readHash(dir) === hash && existsSync(path.join(rootfs, "usr/lib/systemd/systemd"))) {
        log(`base image (${suite}): cached (${hash})`);
        return { rootfs, suite, hash, built: false };
    }
    log(`base image (${suite}): building with debootstrap (${BASE_RECIPE.variant}); about a minute`);
    const build = `${dir}.build`;
    rmSync(build, { recursive: true, force: true });
    ensureDir(build);
    const buildRoot = path.join(build, "rootfs");
    // The mirror comes from this machine's apt sources and goes on the command line only.
    await check(
        "debootstrap",
        [
            `--variant=${BASE_RECIPE.variant}`,
            `--include=${BASE_RECIPE.include.join(",")}`,
            suite,
            buildRoot,
            debianMirror(suite),
        ],
        { timeoutMs: 15 * 60_000 },
    );
    customizeBase(buildRoot);
    rmSync(dir, { recursive: true, force: true });
    renameSync(build, dir);
    writeFileSync(path.join(dir, "inputs.hash"), `${hash}\n`);
    return { rootfs, suite, hash, built: true };
}

/** Makes the debootstrap result a template: no identity of its own, apt pointed at the lab repository. */
function customizeBase(root: string): void {
    const at = (p: string) => path.join(root, p);
    // debootstrap wrote the mirror into sources.list and its lists: replace both.
    writeFileSync(at("etc/apt/sources.list"), BASE_RECIPE.sourcesList);
    for (const f of readdirSync(at("etc/apt/sources.list.d"))) {
        rmSync(at(`etc/apt/sources.list.d/${f}`), { force: true });
    }
    for (const f of readdirSync(at("var/lib/apt/lists"))) {
        if (f !== "partial") {
            rmSync(at(`var/lib/apt/lists/${f}`), { recursive: true, force: true });
        }
    }
    rmSync(at("var/cache/apt/archives"), { recursive: true, force: true });
    ensureDir(at("var/cache/apt/archives/partial"));
    writeFileSync(at("etc/dpkg/dpkg.cfg.d/zha-lab"), BASE_RECIPE.dpkgCfg);
    // Each host gets its own machine-id, host keys and hostname in its overlay.
    for (const f of readdirSync(at("etc/ssh")).filter(f => f.startsWith("ssh_host_"))) {
        rmSync(at(`etc/ssh/${f}`));
    }
    writeFileSync(at("etc/machine-id"), "");
    rmSync(at("var/lib/dbus/machine-id"), { force: true });
    symlinkSync("/etc/machine-id", at("var/lib/dbus/machine-id"));
    writeFileSync(at("etc/hostname"), "");
    for (const unit of BASE_RECIPE.masked) {
        rmSync(at(`etc/systemd/system/${unit}`), { force: true });
        symlinkSync("/dev/null", at(`etc/systemd/system/${unit}`));
    }
    ensureDir(at("root/.ssh"), 0o700);
    chmodSync(at("root/.ssh"), 0o700);
}
