/**
 * SSH: every step verifies the host it talks to.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { parseSshHostKey } from "../../components/config/sshHostKey";
import { RESOURCE_TYPES } from "./facts";

/**
 * A remote Command without `connection.hostKey` accepts whatever key the far end shows
 * (@pulumi/command: "If not provided, the host key will be ignored"): a machine in the middle then
 * receives the step's secrets on stdin and can fake the output the stack records as success.
 */
export const sshHostKeyPinned: ResourceValidationPolicy = {
    name: "ssh-host-key-pinned",
    description: "Every SSH connection of a step verifies the host's pinned key (hosts[i].sshHostKey).",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== RESOURCE_TYPES.command) {
            return;
        }
        const connection = (args.props.connection ?? {}) as { host?: string; hostKey?: unknown };
        const key = typeof connection.hostKey === "string" ? parseSshHostKey(connection.hostKey) : undefined;
        if (key === undefined || typeof key === "string") {
            report(
                `${args.name} connects to ${connection.host ?? "its host"} without ${key ? `a valid host key (${key})` : "a pinned host key"}: ` +
                    "set that host's sshHostKey to the line of its /etc/ssh/ssh_host_ed25519_key.pub, read on the host or through a channel you trust " +
                    "(`ssh-keyscan` over the same network proves nothing).",
            );
        }
    },
};
