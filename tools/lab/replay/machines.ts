/**
 * The lab's machines follow the config, as an operator's would: hosts and sites the new config adds
 * are booted (bridge, namespace, veth, container, as `up` makes them) before the plan is applied;
 * hosts and sites it drops are stopped and removed after the plan's deletes ran on them. A site
 * marked lost keeps running: the drills cut sites off, the lab itself does not.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "fs";
import * as path from "path";
import { CapturedPlan } from "../../offline";
import {
    BootInputs,
    HostRecord,
    LabHost,
    LabSite,
    LabState,
    StateFile,
    Topology,
    addHosts,
    addSites,
    LabImages,
    labSuites,
    packageSets,
    removeHostNetwork,
    removeSite,
    startHosts,
    stopHost,
    writePeers,
} from "../machines";

export interface MachineChanges {
    readonly newSites: readonly LabSite[];
    readonly newHosts: readonly LabHost[];
    readonly goneHosts: readonly HostRecord[];
    readonly goneSites: readonly string[];
}

/** What the new config adds and drops; refuses what the lab cannot do to a running host (move it). */
export function machineChanges(state: LabState, topo: Topology): MachineChanges {
    const problems: string[] = [];
    const recordedSites = state.sites ?? [];
    for (const site of topo.sites) {
        const was = recordedSites.find(s => s.name === site.name);
        if (was && was.network !== site.network) {
            problems.push(`site ${site.name}: its network changed (${was.network} -> ${site.network})`);
        }
    }
    for (const host of topo.hosts) {
        const was = state.hosts.find(h => h.name === host.name);
        if (was && (was.address !== host.address || was.site !== host.site)) {
            problems.push(
                `host ${host.name}: moved (${was.address} in ${was.site} -> ${host.address} in ${host.site})`,
            );
        }
    }
    if (problems.length > 0) {
        throw new Error(
            `the running lab cannot follow this config (\`npm run lab -- up\` builds it afresh):\n  - ${problems.join("\n  - ")}`,
        );
    }
    return {
        newSites: topo.sites.filter(s => !recordedSites.some(r => r.name === s.name)),
        newHosts: topo.hosts.filter(h => !state.hosts.some(r => r.name === h.name)),
        goneHosts: state.hosts.filter(r => !topo.hosts.some(h => h.name === r.name)),
        goneSites: recordedSites.filter(r => !topo.sites.some(s => s.name === r.name)).map(r => r.name),
    };
}

/** Package names a flat repository's indexes list (the pool's and any overlay's). */
function indexedPackages(pool: string): Set<string> {
    const found = new Set<string>();
    const indexes = [path.join(pool, "Packages"), ...readdirSync(pool).map(d => path.join(pool, d, "Packages"))];
    for (const index of indexes.filter(f => existsSync(f) && statSync(f).isFile())) {
        for (const match of readFileSync(index, "utf8").matchAll(/^Package: (\S+)$/gm)) {
            found.add(match[1]);
        }
    }
    return found;
}

/** Packages the base image has installed already (its dpkg status): a step asks for them and apt finds them there. */
function installedInBase(base: string): Set<string> {
    const status = path.join(base, "var/lib/dpkg/status");
    const found = new Set<string>();
    const text = existsSync(status) ? readFileSync(status, "utf8") : "";
    for (const stanza of text.split(/\n\n/)) {
        const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
        if (name && /^Status: install ok installed$/m.test(stanza)) {
            found.add(name);
        }
    }
    return found;
}

/**
 * The running hosts see their release's repository, bind-mounted when they booted; a plan that needs
 * a package it lacks (a new role's), or a host of a release the lab has no image of, cannot install
 * it, so it is refused before anything changes.
 */
export function requireRepositoryHolds(images: LabImages, plan: CapturedPlan, topo: Topology): void {
    for (const suite of labSuites(topo.config)) {
        const image = images[suite];
        if (!image) {
            throw new Error(
                `the config has Debian ${suite} hosts and the running lab has no image of ${suite}: \`npm run lab -- up\` with this config builds one`,
            );
        }
        const pool = image.repository;
        const have = new Set([...indexedPackages(pool), ...installedInBase(image.base)]);
        const missing = [...new Set(packageSets(plan, topo.config, suite).flat())].filter(p => !have.has(p)).sort();
        if (missing.length > 0) {
            throw new Error(
                `the lab's ${suite} package repository (${pool}) lacks ${missing.join(", ")}, which this config's package steps install; ` +
                    "the running hosts cannot see another repository: `npm run lab -- up` with this config builds one that has them",
            );
        }
    }
}

/** Boots what the new config adds, recording each piece before it is made; refreshes every host's /etc/hosts. */
export async function bootNew(
    changes: MachineChanges,
    topo: Topology,
    file: StateFile,
    state: LabState,
    boot: BootInputs,
    log: (line: string) => void,
): Promise<void> {
    if (changes.newSites.length > 0) {
        await addSites(topo, changes.newSites, file, state);
        log(`sites added: ${changes.newSites.map(s => `${s.name} (${s.network})`).join(", ")}`);
    }
    if (changes.newHosts.length > 0) {
        const started = Date.now();
        await addHosts(topo, changes.newHosts, file, state);
        await startHosts(topo, file, state, boot, changes.newHosts);
        log(
            `hosts added: ${changes.newHosts.map(h => `${h.name} (${h.address}, ${h.site})`).join(", ")} booted in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
    }
    // Roles are what `status` lists services by.
    state.hosts = state.hosts.map(rec => ({
        ...rec,
        roles: topo.hosts.find(h => h.name === rec.name)?.roles ?? rec.roles,
    }));
    file.write(state);
    refreshPeers(state, topo);
}

function refreshPeers(state: LabState, topo: Topology): void {
    for (const rec of state.hosts.filter(r => topo.hosts.some(h => h.name === r.name))) {
        writePeers(rec, topo);
    }
}

/** Stops and removes what the new config dropped, once its deletes ran. */
export async function removeGone(
    changes: MachineChanges,
    topo: Topology,
    file: StateFile,
    state: LabState,
    log: (line: string) => void,
): Promise<void> {
    for (const rec of changes.goneHosts) {
        const problems = await stopHost(rec, log);
        if (problems.length > 0) {
            throw new Error(
                `could not remove host ${rec.name} (it stays in the records for \`down\`):\n  - ${problems.join("\n  - ")}`,
            );
        }
        await removeHostNetwork(rec.netns, file, state);
        state.hosts = state.hosts.filter(h => h.name !== rec.name);
        file.write(state);
        log(`host removed: ${rec.name}`);
    }
    for (const site of changes.goneSites) {
        await removeSite(topo, site, file, state);
        log(`site removed: ${site}`);
    }
    refreshPeers(state, topo);
}
