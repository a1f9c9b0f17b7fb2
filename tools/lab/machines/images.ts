/**
 * A lab's images: for each Debian release its hosts run (Debian 12 and 13 side by side is a mixed
 * estate the lab plays as it is), the base and the package repository of that release's hosts.
 */
import { StackConfig } from "../../../components/config";
import { CapturedPlan } from "../../offline";
import { CacheLog, ensureBase, labSuite } from "./image";
import { ManagedEndpoint, managedDbPackages } from "./managed";
import { ensureRepository, packageSets, patroniOverlay } from "./repository";
import { CachePaths } from "./settings";
import { LabImages } from "./state";

export interface BuiltImages {
    readonly images: LabImages;
    /** Whether a base or a repository had to be built (a cold run) rather than found in the cache. */
    readonly cold: { readonly base: boolean; readonly repository: boolean };
}

/** The Debian releases of a config's hosts, by codename, sorted. */
export function labSuites(config: StackConfig): string[] {
    const suites = config.sites.flatMap(s => s.hosts.map(h => labSuite(h.os)));
    return [...new Set(suites.filter((s): s is string => s !== undefined))].sort();
}

/** Builds (or finds cached) the base and repository of every release the config's hosts run. */
export async function ensureImages(
    paths: Pick<CachePaths, "base" | "repo">,
    plan: CapturedPlan,
    config: StackConfig,
    managed: readonly ManagedEndpoint[],
    log: CacheLog,
): Promise<BuiltImages> {
    const images: Record<string, { base: string; repository: string }> = {};
    let [baseBuilt, repositoryBuilt] = [false, false];
    for (const suite of labSuites(config)) {
        const base = await ensureBase(paths.base, suite, log);
        const provider = managed.filter(m => labSuite(m.host.os) === suite).map(m => [...managedDbPackages(m.host.os)]);
        const sets = [...packageSets(plan, config, suite), ...provider];
        const overlay = patroniOverlay(config, sets);
        // The overlay stands in for a repository of a newer Patroni than the base's release ships.
        const repo = await ensureRepository(
            paths.repo,
            base,
            sets,
            log,
            overlay && overlay.suite !== suite ? overlay : undefined,
        );
        images[suite] = { base: base.rootfs, repository: repo.dir };
        baseBuilt ||= base.built;
        repositoryBuilt ||= repo.built;
    }
    return { images, cold: { base: baseBuilt, repository: repositoryBuilt } };
}
