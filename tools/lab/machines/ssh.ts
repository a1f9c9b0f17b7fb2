/**
 * SSH as the command provider uses it: one session per command, the command text sent as the
 * remote command string (the login shell runs it), stdin fed from the step's secrets, no PTY.
 * `-F none` keeps this machine's ssh_config (SendEnv of the locale, for one) out of the picture,
 * since the provider sends no environment either.
 */
import { createHash } from "crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { RunResult, check, run } from "./run";
import { ensureDir } from "./settings";

export interface SshCall {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    /** Private key file. */
    readonly key: string;
    readonly command: string;
    /** Fed to the remote command's stdin (secrets: never logged). */
    readonly input?: string;
    readonly connectTimeout?: number;
    readonly timeoutMs?: number;
    /**
     * The host's pinned public key ("<type> <base64>"), as a step's connection carries it: ssh then
     * accepts only that key, offering only its type, as the provider does (FixedHostKey, and
     * HostKeyAlgorithms of the key's type). Without it any key is accepted, as the provider does too.
     */
    readonly hostKey?: string;
}

/** The alias every pinned key is filed under, whatever the address and port. */
const PINNED_ALIAS = "zabbix-ha-pinned";

/** A known_hosts file that holds exactly this key (one per key, written once, in the temp dir). */
function knownHostsFor(hostKey: string): string {
    const file = path.join(tmpdir(), `zha-known-${createHash("sha256").update(hostKey).digest("hex").slice(0, 16)}`);
    if (!existsSync(file)) {
        writeFileSync(file, `${PINNED_ALIAS} ${hostKey}\n`, { mode: 0o644 });
    }
    return file;
}

/** How ssh checks the far end: the pinned key alone, or (no pin) anything. */
function hostKeyOptions(hostKey: string | undefined): string[] {
    if (!hostKey) {
        return ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];
    }
    return [
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${knownHostsFor(hostKey)}`,
        "-o",
        `HostKeyAlias=${PINNED_ALIAS}`,
        "-o",
        `HostKeyAlgorithms=${hostKey.split(" ")[0]}`,
    ];
}

export function sshArgs(call: Omit<SshCall, "command" | "input">): string[] {
    return [
        "-F",
        "none",
        "-o",
        "BatchMode=yes",
        ...hostKeyOptions(call.hostKey),
        "-o",
        "LogLevel=ERROR",
        "-o",
        `ConnectTimeout=${call.connectTimeout ?? 15}`,
        "-o",
        "ServerAliveInterval=15",
        "-i",
        call.key,
        "-p",
        String(call.port),
        `${call.user}@${call.host}`,
    ];
}

export function sshRun(call: SshCall): Promise<RunResult> {
    return run("ssh", [...sshArgs(call), "--", call.command], { input: call.input, timeoutMs: call.timeoutMs });
}

/** ssh exits 255 for its own failures; these mean the host could not be reached at all. */
export function isDialFailure(result: RunResult): boolean {
    // Only ssh's own words count: a remote script may print "Connection refused" (psql does) and exit 255.
    return (
        result.code === 255 &&
        /^(ssh: connect to host .*: (Connection refused|Connection timed out|No route to host|Network is unreachable)|kex_exchange_identification: .*|Connection (closed|reset) by .* port \d+)\r?$/m.test(
            result.stderr,
        )
    );
}

export interface KeyPair {
    readonly privateKey: string;
    readonly privateKeyFile: string;
    readonly publicKey: string;
}

/** The lab's key pair, made once in the cache (0600), authorized for root on every host. */
export async function ensureKeyPair(file: string): Promise<KeyPair> {
    ensureDir(path.dirname(file), 0o700);
    if (!existsSync(file) || !existsSync(`${file}.pub`)) {
        // Half a pair is useless; ssh-keygen would also stop to ask before overwriting it.
        rmSync(file, { force: true });
        rmSync(`${file}.pub`, { force: true });
        await check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "zabbix-ha-lab", "-f", file]);
    }
    return {
        privateKey: readFileSync(file, "utf8"),
        privateKeyFile: file,
        publicKey: readFileSync(`${file}.pub`, "utf8"),
    };
}
