/**
 * A host's pinned SSH host key (`hosts[i].sshHostKey`): the public key its sshd presents, as
 * `/etc/ssh/ssh_host_<type>_key.pub` holds it (or a line of `ssh-keyscan`). Every step's connection
 * carries it as @pulumi/command's `hostKey`; without one the provider ignores the host key, and a
 * machine in the middle would receive every secret a step sends on stdin.
 */

/**
 * Key types a pin may have. The provider offers the server exactly the pinned key's type as its
 * host key algorithm (pulumi-command's SSHConfig: HostKeyAlgorithms = [the key's Type()]); for an
 * RSA key that is "ssh-rsa", SHA-1 signatures, which OpenSSH 8.8 and newer refuse by default, so an
 * RSA pin could never connect. Every OpenSSH server has had an ed25519 host key since 6.5.
 */
export const SSH_HOST_KEY_TYPES = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
] as const;

/** The key as the provider wants it: type and base64 blob, no comment. */
export interface SshHostKey {
    readonly type: (typeof SSH_HOST_KEY_TYPES)[number];
    readonly blob: string;
}

/**
 * Reads a public key line ("<type> <base64> [comment]"); a problem in the operator's words, or the
 * key. The blob must decode and name its own type first, as every SSH public key does, so a key
 * pasted with a missing or altered character is caught here rather than as a refused connection.
 */
export function parseSshHostKey(text: string): SshHostKey | string {
    const fields = text.trim().split(/\s+/);
    const [type, blob] = fields;
    if (/^(ssh-rsa|rsa-sha2-(256|512))$/.test(type)) {
        return "is an RSA key: the provider would ask for ssh-rsa (SHA-1) signatures, which OpenSSH 8.8 and newer refuse; pin the host's /etc/ssh/ssh_host_ed25519_key.pub instead";
    }
    if (fields.length < 2 || !(SSH_HOST_KEY_TYPES as readonly string[]).includes(type)) {
        return `expected an SSH public key line ("ssh-ed25519 AAAA...", as /etc/ssh/ssh_host_ed25519_key.pub holds it), with one of the types ${SSH_HOST_KEY_TYPES.join(", ")}`;
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) {
        return "its key is not base64";
    }
    const bytes = Buffer.from(blob, "base64");
    const nameLength = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
    const named = nameLength >= 0 && bytes.length >= 4 + nameLength ? bytes.subarray(4, 4 + nameLength).toString() : "";
    if (named !== type) {
        return `its key does not decode to a ${type} key (it names ${named ? `"${named}"` : "nothing"}): copy the whole line again`;
    }
    return { type: type as SshHostKey["type"], blob };
}

/** The line the connection carries. */
export function hostKeyLine(key: SshHostKey): string {
    return `${key.type} ${key.blob}`;
}
