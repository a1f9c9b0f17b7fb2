/**
 * The two cached inputs of every host: a debootstrap'd Debian 12 base (shared read-only below each
 * host's overlay) and a flat apt repository holding every package the hosts' package steps will ask
 * for, with all dependencies, resolved against the base's own dpkg status. Each is rebuilt only when
 * the hash of its inputs changes; the hash is written last, so a half-built cache is never reused.
 */
import { createHash } from "crypto";
import {
    chmodSync,
    copyFileSync,
    existsSync,
    readFileSync,
    readdirSync,
    renameSync,
    rmSync,
    statSync,
    symlinkSync,
    utimesSync,
    writeFileSync,
} from "fs";
import * as path from "path";
import { StackConfig } from "../../../components/config";
import { RESOURCE_TYPES } from "../../../components/facts";
import { packagesFor } from "../../../components/host";
import { CapturedPlan } from "../../offline";
import { check } from "./run";
import { REPO_MOUNT, ensureDir } from "./settings";
import { debianMirror, machineSources } from "./sources";

const SUITE = "bookworm";

/** Everything that shapes the base; change anything here and the base is rebuilt. */
const BASE_RECIPE = {
    revision: 1,
    suite: SUITE,
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

function hashOf(value: unknown): string {
    return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

function readHash(dir: string): string | undefined {
    const file = path.join(dir, "inputs.hash");
    return existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
}

export interface BaseImage {
    readonly rootfs: string;
    readonly hash: string;
    readonly built: boolean;
}

/** The shared base: built once (about a minute), reused while its recipe is unchanged. */
export async function ensureBase(dir: string, log: CacheLog): Promise<BaseImage> {
    const hash = hashOf(BASE_RECIPE);
    const rootfs = path.join(dir, "rootfs");
    if (readHash(dir) === hash && existsSync(path.join(rootfs, "usr/lib/systemd/systemd"))) {
        log(`base image: cached (${hash})`);
        return { rootfs, hash, built: false };
    }
    log(`base image: building with debootstrap (${SUITE}, ${BASE_RECIPE.variant}); about a minute`);
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
            SUITE,
            buildRoot,
            debianMirror(SUITE),
        ],
        { timeoutMs: 15 * 60_000 },
    );
    customizeBase(buildRoot);
    rmSync(dir, { recursive: true, force: true });
    renameSync(build, dir);
    writeFileSync(path.join(dir, "inputs.hash"), `${hash}\n`);
    return { rootfs, hash, built: true };
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

export interface Repository {
    readonly dir: string;
    readonly hash: string;
    readonly packages: number;
    readonly built: boolean;
}

/**
 * The distinct package lists the plan's package steps install, each resolved on its own as apt on
 * the host will resolve it. Read from the steps themselves, so packages a pattern adds are included;
 * the roles' lists are the fallback should the step's wording change.
 */
export function packageSets(plan: CapturedPlan, config: StackConfig): string[][] {
    const sets = new Map<string, string[]>();
    const add = (list: string[]) => sets.set([...list].sort().join(" "), [...list].sort());
    for (const r of plan.resources.filter(r => r.type === RESOURCE_TYPES.command)) {
        const create = String(r.inputs.create ?? "");
        const match = /for zha_pkg in ([^;\n]+); do/.exec(create);
        if (match && create.includes("apt-get install")) {
            add(match[1].trim().split(/\s+/));
        }
    }
    if (sets.size === 0) {
        for (const host of config.sites.flatMap(s => s.hosts)) {
            add(
                packagesFor({
                    os: host.os,
                    roles: host.roles,
                    zabbixVersion: config.zabbix.version,
                    packageSource: config.zabbix.packageSource,
                    repositoryUrl: config.zabbix.repositoryUrl,
                }),
            );
        }
    }
    return [...sets.values()];
}

/** The Debian release whose Patroni (4.0.7) stands in for the operator's newer one on Debian 12 hosts. */
const NEWER_PATRONI_SUITE = "trixie";

/**
 * When the config points db.patroniRepository at a directory of the lab's own repository, that
 * directory is built as an overlay holding a Patroni newer than Debian 12's.
 */
export function patroniOverlay(
    config: StackConfig,
    sets: readonly (readonly string[])[],
): OverlayRepository | undefined {
    const url = config.db.patroniRepository?.url;
    const prefix = `file:${REPO_MOUNT}/`;
    if (!url || !url.startsWith(prefix)) {
        return undefined;
    }
    const subdir = url.slice(prefix.length);
    if (!/^[a-z0-9-]+$/.test(subdir)) {
        throw new Error(
            `db.patroniRepository.url: ${url} must name one directory under ${prefix} (letters, digits, "-")`,
        );
    }
    return {
        subdir,
        suite: NEWER_PATRONI_SUITE,
        pinned: ["patroni"],
        sets: sets.filter(set => set.includes("patroni")),
    };
}

/** Repositories kept side by side: the lab's three configs (manual, patroni, cloud) differ in packages, and the lab test runs each. */
const KEPT_REPOSITORIES = 3;

/** Removes all but the most recently used repositories (and the single-repository layout of before). */
function pruneRepositories(dir: string, keep: string): void {
    const entries = readdirSync(dir).filter(e => e !== keep);
    const repositories = entries
        .filter(e => existsSync(path.join(dir, e, "inputs.hash")))
        .sort(
            (a, b) =>
                statSync(path.join(dir, b, "inputs.hash")).mtimeMs - statSync(path.join(dir, a, "inputs.hash")).mtimeMs,
        );
    const kept = new Set(repositories.slice(0, KEPT_REPOSITORIES - 1));
    for (const e of entries.filter(e => !kept.has(e))) {
        rmSync(path.join(dir, e), { recursive: true, force: true });
    }
}

/**
 * A second flat repository inside the pool (its own Packages index, at `<pool>/<subdir>`): the
 * packages in `pinned` at their versions in Debian `suite`, with whatever they need that the pool
 * lacks. The lab's stand-in for an operator's repository of newer packages (a Patroni newer than
 * Debian 12's), built from Debian's own archive on the machine's own mirror.
 */
export interface OverlayRepository {
    readonly subdir: string;
    readonly suite: string;
    readonly pinned: readonly string[];
    /** The package sets to resolve with the overlay in view (those that install a pinned package). */
    readonly sets: readonly (readonly string[])[];
}

/** The machine's Debian 12 sources as they are, and its main mirror once more for `suite` (same keys). */
function overlaySources(suite: string): string {
    const own = machineSources().filter(s => s.suites.some(x => x === SUITE || x.startsWith(`${SUITE}-`)));
    const home = own.find(s => s.suites.includes(SUITE) && s.components.includes("main"));
    if (!home) {
        throw new Error(`no enabled apt source for Debian ${SUITE} main: the overlay repository reuses its mirror`);
    }
    const stanza = (uri: string, suites: readonly string[], components: readonly string[], signedBy?: string) =>
        `Types: deb\nURIs: ${uri}\nSuites: ${suites.join(" ")}\nComponents: ${components.join(" ")}${signedBy ? `\nSigned-By: ${signedBy}` : ""}\n`;
    return [
        ...own.map(s => stanza(s.uri, s.suites, s.components, s.signedBy)),
        stanza(home.uri, [suite], ["main"], home.signedBy),
    ].join("\n");
}

/**
 * apt on this machine downloads each package set and its dependencies against the base's dpkg
 * status into `<root>/pool`. Only where apt keeps state changes (plus `options`); sources, keys and
 * Acquire settings stay the machine's unless `options` say otherwise.
 */
async function downloadSets(
    root: string,
    base: BaseImage,
    sets: readonly (readonly string[])[],
    options: readonly string[] = [],
): Promise<string> {
    const state = ensureDir(path.join(root, "state"));
    ensureDir(path.join(state, "lists/partial"));
    ensureDir(path.join(root, "cache"));
    const archives = ensureDir(path.join(root, "pool"));
    ensureDir(path.join(archives, "partial"));
    copyFileSync(path.join(base.rootfs, "var/lib/dpkg/status"), path.join(state, "status"));
    const apt = [
        ...options,
        "-o",
        `Dir::State=${state}`,
        "-o",
        `Dir::State::Lists=${path.join(state, "lists")}`,
        "-o",
        `Dir::State::status=${path.join(state, "status")}`,
        "-o",
        `Dir::Cache=${path.join(root, "cache")}`,
        "-o",
        `Dir::Cache::archives=${archives}`,
        "-o",
        "APT::Get::List-Cleanup=false",
    ];
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    await check("apt-get", [...apt, "update", "-q"], { env, timeoutMs: 10 * 60_000 });
    for (const set of sets) {
        await check("apt-get", [...apt, "install", "-y", "-q", "--download-only", "--no-install-recommends", ...set], {
            env,
            timeoutMs: 15 * 60_000,
        });
    }
    rmSync(path.join(archives, "partial"), { recursive: true, force: true });
    rmSync(path.join(archives, "lock"), { force: true });
    return archives;
}

/** A flat repository's index (Packages, Release) over the .deb files in `dir`. */
async function indexFlatRepository(dir: string): Promise<void> {
    const index = await check("apt-ftparchive", ["packages", "."], { cwd: dir });
    writeFileSync(path.join(dir, "Packages"), index.stdout);
    const release = await check("apt-ftparchive", ["release", "."], { cwd: dir });
    writeFileSync(path.join(dir, "Release"), release.stdout);
}

/** Downloads the overlay's packages next to the pool's and indexes the ones the pool does not have. */
async function buildOverlay(
    build: string,
    base: BaseImage,
    pool: string,
    overlay: OverlayRepository,
    log: CacheLog,
): Promise<number> {
    const root = ensureDir(path.join(build, "overlay"));
    const etc = ensureDir(path.join(root, "etc"));
    writeFileSync(path.join(etc, "zha.sources"), overlaySources(overlay.suite));
    ensureDir(path.join(etc, "sources.list.d"));
    // The other release is a last resort; only the pinned packages are taken from it by preference.
    writeFileSync(
        path.join(etc, "preferences"),
        `Package: *\nPin: release n=${overlay.suite}\nPin-Priority: 50\n\n` +
            `Package: ${overlay.pinned.join(" ")}\nPin: release n=${overlay.suite}\nPin-Priority: 990\n`,
    );
    log(`overlay repository: ${overlay.pinned.join(", ")} from Debian ${overlay.suite}`);
    const archives = await downloadSets(root, base, overlay.sets, [
        "-o",
        `Dir::Etc::sourcelist=${path.join(etc, "zha.sources")}`,
        "-o",
        `Dir::Etc::sourceparts=${path.join(etc, "sources.list.d")}`,
        "-o",
        `Dir::Etc::preferences=${path.join(etc, "preferences")}`,
        "-o",
        `Dir::Etc::preferencesparts=${path.join(etc, "sources.list.d")}`,
    ]);
    const inPool = new Set(readdirSync(pool).filter(f => f.endsWith(".deb")));
    const target = ensureDir(path.join(pool, overlay.subdir));
    const added = readdirSync(archives).filter(f => f.endsWith(".deb") && !inPool.has(f));
    for (const f of added) {
        renameSync(path.join(archives, f), path.join(target, f));
    }
    await indexFlatRepository(target);
    return added.length;
}

/**
 * The local repository: apt on this machine (its own sources and settings) downloads each package
 * set and its dependencies against the base's dpkg status, then apt-ftparchive indexes the pool.
 * Each set of inputs has its own directory (named by their hash), so switching configs reuses a pool.
 */
export async function ensureRepository(
    dir: string,
    base: BaseImage,
    sets: string[][],
    log: CacheLog,
    overlay?: OverlayRepository,
): Promise<Repository> {
    const sourcesShape = machineSources().map(s => ({ suites: s.suites, components: s.components }));
    // The base's package versions, not only its recipe: a rebuilt base resolves dependencies anew.
    const baseStatus = createHash("sha256")
        .update(readFileSync(path.join(base.rootfs, "var/lib/dpkg/status")))
        .digest("hex");
    const hash = hashOf({ base: base.hash, baseStatus, sets, sourcesShape, ...(overlay ? { overlay } : {}) });
    ensureDir(dir);
    const home = path.join(dir, hash);
    const pool = path.join(home, "pool");
    if (readHash(home) === hash && existsSync(path.join(pool, "Packages"))) {
        const now = new Date();
        utimesSync(path.join(home, "inputs.hash"), now, now);
        pruneRepositories(dir, hash);
        const packages = readdirSync(pool).filter(f => f.endsWith(".deb")).length;
        log(`package repository: cached (${packages} packages, ${hash})`);
        return { dir: pool, hash, packages, built: false };
    }
    log(`package repository: downloading ${sets.length} package set(s) with their dependencies`);
    const build = `${home}.build`;
    rmSync(build, { recursive: true, force: true });
    const archives = await downloadSets(build, base, sets);
    await indexFlatRepository(archives);
    if (overlay) {
        // After the pool's own index, which must not list the overlay's packages.
        const added = await buildOverlay(build, base, archives, overlay, log);
        log(`overlay repository: ${added} packages in ${overlay.subdir}/`);
    }
    // The lists (named after the mirror) served their purpose; keep only the pool.
    rmSync(home, { recursive: true, force: true });
    ensureDir(home);
    renameSync(archives, pool);
    rmSync(build, { recursive: true, force: true });
    writeFileSync(path.join(home, "inputs.hash"), `${hash}\n`);
    pruneRepositories(dir, hash);
    const packages = readdirSync(pool).filter(f => f.endsWith(".deb")).length;
    log(`package repository: ${packages} packages`);
    return { dir: pool, hash, packages, built: true };
}
