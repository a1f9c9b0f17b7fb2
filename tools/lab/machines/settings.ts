/**
 * Where the lab keeps things and what it names them. Everything the lab makes outside its cache
 * directory carries the LAB_PREFIX, and is also listed in the state file, which `down` reads.
 */
import { existsSync, mkdirSync, readFileSync } from "fs";
import * as path from "path";

/** Prefix of the lab's network namespaces, cgroups and machine names. */
export const LAB_PREFIX = "zhalab";

/** Where each host sees the local package repository (bind-mounted read-only). */
export const REPO_MOUNT = "/srv/zha-lab-repo";

/**
 * Only this block may be used by the lab: RFC 2544 benchmarking addresses, never routed outside,
 * so the lab can never shadow a real network (its config check refuses any other).
 */
export const LAB_BLOCK = "198.18.0.0/15";

/** The cache when $ZABBIX_HA_LAB_CACHE is unset: outside the repository, never committed. */
export const DEFAULT_CACHE = "/var/cache/zabbix-ha-lab";

/** The cache directory ($ZABBIX_HA_LAB_CACHE overrides the default) and what it holds. */
export function cachePaths(root = process.env.ZABBIX_HA_LAB_CACHE || DEFAULT_CACHE) {
    const dir = path.resolve(root);
    return {
        root: dir,
        // The debootstrap'd base every host's overlay lies on, and the flat apt repositories (one per hash of their inputs).
        base: path.join(dir, "base"),
        repo: path.join(dir, "repo"),
        // The lab's SSH private key, its public key beside it.
        sshKey: path.join(dir, "ssh", "id_ed25519"),
        // Each host's SSH host key (by host name): the overlay gets it, the plan pins it.
        hostKeys: path.join(dir, "ssh", "hosts"),
        // The CA of the cloud provider the lab plays (pattern 4): the plan names it, the endpoint's certificate is signed by it.
        providerCa: path.join(dir, "provider-ca"),
        // The hosts' overlays and console logs.
        run: path.join(dir, "run"),
        logs: path.join(dir, "logs"),
        // What the lab made and the stack's state per URN; the lock of the lab command that runs.
        state: path.join(dir, "state.json"),
        lock: path.join(dir, "lock"),
    } as const;
}

/** Where the lab's cache keeps each of its parts. */
export type CachePaths = ReturnType<typeof cachePaths>;

/** Makes a directory and its parents (`mode` for those it makes); returns it. */
export function ensureDir(dir: string, mode = 0o755): string {
    mkdirSync(dir, { recursive: true, mode });
    return dir;
}

/** The repository root (the directory of package.json), wherever the code runs from (bin/ or ts-jest). */
export function repositoryRoot(from = __dirname): string {
    let dir = from;
    for (;;) {
        const manifest = path.join(dir, "package.json");
        if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "zabbix-ha") {
            return dir;
        }
        const parent = path.dirname(dir);
        if (parent === dir) {
            throw new Error(`cannot find the zabbix-ha package.json above ${from}`);
        }
        dir = parent;
    }
}

export function defaultConfigFile(): string {
    return path.join(repositoryRoot(), "lab", "Pulumi.lab.yaml");
}
