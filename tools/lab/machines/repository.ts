/**
 * The flat apt repository of one Debian release's hosts: every package the package steps of those
 * hosts will ask for, with all dependencies, resolved against the release's base's dpkg status by
 * apt on this machine, with apt state of the lab's own. The machine's own release comes from its own
 * sources; another release from the same mirrors under that release's name (sources.ts).
 */
import { createHash } from "crypto";
import {
    copyFileSync,
    existsSync,
    readFileSync,
    readdirSync,
    renameSync,
    rmSync,
    statSync,
    utimesSync,
    writeFileSync,
} from "fs";
import * as path from "path";
import { StackConfig } from "../../../components/config";
import { RESOURCE_TYPES } from "../../../components/facts";
import { packagesFor } from "../../../components/host";
import { CapturedPlan } from "../../offline";
import { BaseImage, CacheLog, hashOf, labSuite, readHash } from "./image";
import { check } from "./run";
import { REPO_MOUNT, ensureDir } from "./settings";
import { machineSources, machineSuite, renderDeb822, sourcesForSuite } from "./sources";

export interface Repository {
    readonly dir: string;
    readonly hash: string;
    readonly packages: number;
    readonly built: boolean;
}

/**
 * The distinct package lists the package steps of the hosts of Debian release `suite` install, each
 * resolved on its own as apt on the host will resolve it. Read from the steps themselves, so packages
 * a pattern adds are included; the roles' lists are the fallback should the step's wording change.
 */
export function packageSets(plan: CapturedPlan, config: StackConfig, suite: string): string[][] {
    const sets = new Map<string, string[]>();
    const add = (list: string[]) => sets.set([...list].sort().join(" "), [...list].sort());
    const hosts = config.sites.flatMap(s => s.hosts).filter(h => labSuite(h.os) === suite);
    const addresses = new Set(hosts.map(h => h.address));
    const onTheseHosts = (inputs: Record<string, unknown>) =>
        addresses.has(String((inputs.connection as { host?: unknown } | undefined)?.host));
    for (const r of plan.resources.filter(r => r.type === RESOURCE_TYPES.command && onTheseHosts(r.inputs))) {
        const create = String(r.inputs.create ?? "");
        const match = /for zha_pkg in ([^;\n]+); do/.exec(create);
        if (match && create.includes("apt-get install")) {
            add(match[1].trim().split(/\s+/));
        }
    }
    if (sets.size === 0) {
        for (const host of hosts) {
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

/**
 * Repositories kept side by side: the lab's configs (manual, patroni, cloud on Debian 13, manual on
 * Debian 12) differ in packages and releases, and the lab test runs each.
 */
const KEPT_REPOSITORIES = 6;

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

/** The base's release on this machine's mirrors, and `suite` (with its updates and security) from the same ones. */
function overlaySources(base: string, suite: string): string {
    return renderDeb822([...sourcesForSuite(base), ...sourcesForSuite(suite)]);
}

/** apt options that make apt read `sources` (and no preferences) instead of this machine's own. */
function privateSources(root: string, sources: string, preferences = ""): string[] {
    const etc = ensureDir(path.join(root, "etc"));
    writeFileSync(path.join(etc, "zha.sources"), sources);
    writeFileSync(path.join(etc, "preferences"), preferences);
    ensureDir(path.join(etc, "sources.list.d"));
    return [
        "-o",
        `Dir::Etc::sourcelist=${path.join(etc, "zha.sources")}`,
        "-o",
        `Dir::Etc::sourceparts=${path.join(etc, "sources.list.d")}`,
        "-o",
        `Dir::Etc::preferences=${path.join(etc, "preferences")}`,
        "-o",
        `Dir::Etc::preferencesparts=${path.join(etc, "sources.list.d")}`,
    ];
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
    // The other release is a last resort; only the pinned packages are taken from it by preference.
    const options = privateSources(
        root,
        overlaySources(base.suite, overlay.suite),
        `Package: *\nPin: release n=${overlay.suite}\nPin-Priority: 50\n\n` +
            `Package: ${overlay.pinned.join(" ")}\nPin: release n=${overlay.suite}\nPin-Priority: 990\n`,
    );
    log(`overlay repository: ${overlay.pinned.join(", ")} from Debian ${overlay.suite}`);
    const archives = await downloadSets(root, base, overlay.sets, options);
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
    // The base's release from this machine's own sources, or (another release) from the same mirrors under its name.
    const own = base.suite === machineSuite();
    const sources = own ? machineSources() : sourcesForSuite(base.suite);
    const sourcesShape = sources.map(s => ({ suites: s.suites, components: s.components }));
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
    log(`package repository (${base.suite}): downloading ${sets.length} package set(s) with their dependencies`);
    const build = `${home}.build`;
    rmSync(build, { recursive: true, force: true });
    const archives = await downloadSets(build, base, sets, own ? [] : privateSources(build, renderDeb822(sources)));
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
