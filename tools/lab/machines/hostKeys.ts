/**
 * Each lab host's SSH host key, made once in the cache per host name: the host's overlay gets it
 * before it boots, and the lab's plan pins it (`sshHostKey` of each host), so every step's
 * connection verifies the host as the provider would in production.
 */
import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync } from "fs";
import * as path from "path";
import { check } from "./run";
import { ensureDir } from "./settings";

/** The key files of one host in the cache. */
function keyFile(dir: string, host: string): string {
    return path.join(dir, `${host}_ssh_host_ed25519_key`);
}

/** The host's public key line ("ssh-ed25519 <base64>"), making the pair first if the cache has none. */
async function ensureHostKey(dir: string, host: string): Promise<string> {
    ensureDir(dir, 0o700);
    const file = keyFile(dir, host);
    if (!existsSync(file) || !existsSync(`${file}.pub`)) {
        rmSync(file, { force: true });
        rmSync(`${file}.pub`, { force: true });
        await check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", host, "-f", file]);
    }
    return readFileSync(`${file}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
}

/** Every host's public key line, by host name. */
export async function ensureHostKeys(dir: string, hosts: readonly string[]): Promise<Map<string, string>> {
    const keys = new Map<string, string>();
    for (const host of hosts) {
        keys.set(host, await ensureHostKey(dir, host));
    }
    return keys;
}

/** Puts the host's pinned key pair where its sshd reads it (before `ssh-keygen -A` adds the other types). */
export function installHostKey(dir: string, host: string, rootDir: string): void {
    if (!existsSync(keyFile(dir, host))) {
        throw new Error(`${host} has no SSH host key in ${dir}: the lab makes one (ensureHostKeys) before it plans`);
    }
    const target = path.join(rootDir, "etc/ssh/ssh_host_ed25519_key");
    copyFileSync(keyFile(dir, host), target);
    chmodSync(target, 0o600);
    copyFileSync(`${keyFile(dir, host)}.pub`, `${target}.pub`);
    chmodSync(`${target}.pub`, 0o644);
}
