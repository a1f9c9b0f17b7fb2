/**
 * Where the lab keeps things and what it names them. Everything the lab makes outside its cache
 * directory carries the LAB_PREFIX, and is also listed in the state file, which `down` reads.
 */
import { existsSync, mkdirSync, readFileSync } from "fs";
import * as path from "path";

export const DEFAULT_CACHE = "/var/cache/zabbix-ha-lab";

/** Prefix of the lab's network namespaces, cgroups and machine names. */
export const LAB_PREFIX = "zhalab";

/** Where each host sees the local package repository (bind-mounted read-only). */
export const REPO_MOUNT = "/srv/zha-lab-repo";

/** Only this block may be used by the lab: RFC 2544 benchmarking addresses, never routed outside. */
export const LAB_BLOCK = "198.18.0.0/15";

export interface CachePaths {
    readonly root: string;
    readonly base: string;
    readonly repo: string;
    readonly sshKey: string;
    readonly run: string;
    readonly logs: string;
    readonly state: string;
    readonly lock: string;
}

/** The cache directory (env ZABBIX_HA_LAB_CACHE overrides the default) and its layout. */
export function cachePaths(root = process.env.ZABBIX_HA_LAB_CACHE || DEFAULT_CACHE): CachePaths {
    const dir = path.resolve(root);
    return {
        root: dir,
        base: path.join(dir, "base"),
        repo: path.join(dir, "repo"),
        sshKey: path.join(dir, "ssh", "id_ed25519"),
        run: path.join(dir, "run"),
        logs: path.join(dir, "logs"),
        state: path.join(dir, "state.json"),
        lock: path.join(dir, "lock"),
    };
}

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
