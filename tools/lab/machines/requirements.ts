/**
 * What the machine must offer before the lab can run, each with the Debian package that provides it,
 * so a missing piece is reported as one clear `apt-get install` line rather than a failure half-way.
 */
import { existsSync } from "fs";
import * as path from "path";

/** Programs the lab runs on this machine, and their Debian 12 packages. */
export const LAB_TOOLS: Readonly<Record<string, string>> = {
    "systemd-nspawn": "systemd-container",
    debootstrap: "debootstrap",
    "apt-ftparchive": "apt-utils",
    "apt-get": "apt",
    ssh: "openssh-client",
    "ssh-keygen": "openssh-client",
    psql: "postgresql-client-15",
    ip: "iproute2",
    mount: "mount",
};

function onPath(program: string): boolean {
    const dirs = [
        ...(process.env.PATH ?? "").split(":"),
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/lib/postgresql/15/bin",
    ];
    return dirs.filter(Boolean).some(dir => existsSync(path.join(dir, program)));
}

/** Every reason the lab cannot run here, each naming what to do; empty when it can. */
export function missingRequirements(): string[] {
    const problems: string[] = [];
    if (process.getuid?.() !== 0) {
        problems.push("the lab must run as root (it creates network namespaces, overlay mounts and containers)");
    }
    const packages = new Set<string>();
    const programs: string[] = [];
    for (const [program, pkg] of Object.entries(LAB_TOOLS)) {
        if (!onPath(program)) {
            programs.push(program);
            packages.add(pkg);
        }
    }
    if (programs.length > 0) {
        problems.push(
            `missing ${programs.join(", ")}: apt-get install --no-install-recommends ${[...packages].join(" ")}`,
        );
    }
    return problems;
}

/** Throws, naming every missing piece, unless this machine can run the lab. */
export function requireMachine(): void {
    const missing = missingRequirements();
    if (missing.length > 0) {
        throw new Error(`this machine cannot run the lab:\n  - ${missing.join("\n  - ")}`);
    }
}
