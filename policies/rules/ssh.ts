/**
 * SSH: every step verifies the host it talks to.
 */
import { StackValidationPolicy } from "@pulumi/policy";
import { parseSshHostKey } from "../../components/config/sshHostKey";
import { RESOURCE_TYPES } from "./facts";

/**
 * A remote Command without `connection.hostKey` accepts whatever key the far end shows
 * (@pulumi/command: "If not provided, the host key will be ignored"): a machine in the middle then
 * receives the step's secrets on stdin and can fake the output the stack records as success.
 * Reported once per host (a host runs many steps), or once for a config that pins none.
 */
export const sshHostKeyPinned: StackValidationPolicy = {
    name: "ssh-host-key-pinned",
    description: "Every SSH connection of a step verifies the host's pinned key (hosts[i].sshHostKey).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const how =
            "set its sshHostKey to the line of its /etc/ssh/ssh_host_ed25519_key.pub, read on the host or through a channel you trust " +
            "(`ssh-keyscan` over the same network proves nothing)";
        const unpinned = new Map<string, { steps: number; problem?: string }>();
        const hosts = new Set<string>();
        for (const r of args.resources.filter(r => r.type === RESOURCE_TYPES.command)) {
            const connection = (r.props.connection ?? {}) as { host?: string; hostKey?: unknown };
            const host = connection.host ?? "?";
            hosts.add(host);
            const key = typeof connection.hostKey === "string" ? parseSshHostKey(connection.hostKey) : undefined;
            if (key === undefined || typeof key === "string") {
                const entry = unpinned.get(host) ?? { steps: 0 };
                unpinned.set(host, { steps: entry.steps + 1, problem: typeof key === "string" ? key : entry.problem });
            }
        }
        if (unpinned.size > 0 && unpinned.size === hosts.size && [...unpinned.values()].every(u => !u.problem)) {
            report(
                `No host pins its SSH host key: the steps on all ${hosts.size} hosts would accept any key. For each host, ${how}.`,
            );
            return;
        }
        for (const [host, { steps, problem }] of unpinned) {
            report(
                `${steps} step(s) connect to ${host} ${problem ? `with a host key that is not valid (${problem})` : "without a pinned host key"}: ${how}.`,
            );
        }
    },
};
