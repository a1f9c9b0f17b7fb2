/**
 * The host-key drill: a host whose SSH key is no longer the one the config pins (re-keyed, or a
 * machine in the middle) makes its step fail before anything runs there, so no secret reaches it;
 * with the pinned key back, the same apply goes through. No Zabbix value or commit is at stake:
 * the drill checks where SSH stopped.
 */
import { installHostKey, sleep } from "../machines";
import { applyLab } from "../replay";
import { ChangeCheck, ChangeDrill } from "./changes";
import { DrillLab, onHost, recordOf } from "./context";
import { waitHealthy } from "./health";

/**
 * Logins sshd accepted on a host between two moments (epoch seconds; the containers share this
 * machine's clock): a step that ran logged in first. The count's own login comes after `until`.
 */
async function acceptedLogins(
    lab: DrillLab,
    host: DrillLab["topo"]["hosts"][number],
    since: number,
    until: number,
): Promise<number> {
    // sshd, or sshd-session since OpenSSH 9.8 (Debian 13), logs each accepted login.
    const out = await onHost(
        lab,
        host,
        `journalctl -o cat --no-pager --since @${Math.floor(since)} --until @${Math.ceil(until)} ` +
            "SYSLOG_IDENTIFIER=sshd SYSLOG_IDENTIFIER=sshd-session | grep -c '^Accepted publickey' || true",
    );
    return Number(out.stdout.trim() || "0");
}

export const hostKeyChanged: ChangeDrill = {
    name: "host-key-changed",
    summary: "a host's SSH key replaced: its step fails before it logs in; with the pinned key back it runs",
    notFor: () => undefined,
    async run(ctx) {
        const lab = ctx.lab();
        await waitHealthy(lab, 300_000);
        // The last host: a witness or a load balancer where the lab has one, whose packages step is idempotent.
        const host = lab.topo.hosts[lab.topo.hosts.length - 1];
        const step = lab.state.stack?.resources.find(
            r =>
                r.custom &&
                r.name.endsWith("-packages") &&
                (r.inputs.connection as { host?: string } | undefined)?.host === host.address,
        );
        if (!step) {
            throw new Error(`no packages step of ${host.name} in the lab's state`);
        }
        const checks: ChangeCheck[] = [];
        const applies: { what: string; ok: boolean; output: string }[] = [];
        const applyReplacing = async (what: string) => {
            const lines: string[] = [];
            try {
                await applyLab({
                    configFile: ctx.home,
                    locked: true,
                    cacheRoot: lab.paths.root,
                    replace: [step.name],
                    log: line => lines.push(line),
                });
                applies.push({ what, ok: true, output: lines.join("\n") });
            } catch (err) {
                applies.push({ what, ok: false, output: `${lines.join("\n")}\n${(err as Error).message}` });
            }
            return applies[applies.length - 1];
        };

        // A new key on the host, as after a reinstall, or as a machine in the middle would show.
        ctx.log(`    ${host.name}: a new SSH host key, sshd restarted`);
        await onHost(
            lab,
            host,
            "rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub && " +
                "ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key && systemctl restart ssh",
        );
        // Whole seconds apart from the re-keying and the count: journalctl's bounds are whole seconds.
        await sleep(1100);
        const since = Date.now() / 1000;
        const refused = await applyReplacing(`replace ${step.name} with ${host.name} re-keyed`);
        const until = Date.now() / 1000;
        await sleep(1100);
        const logins = await acceptedLogins(lab, host, since, until);
        checks.push({
            name: "the apply failed at the host key",
            ok: !refused.ok && /Host key verification failed/.test(refused.output),
            detail: refused.ok
                ? "it succeeded"
                : (refused.output.match(/Host key verification failed\.?/)?.[0] ?? refused.output.slice(-300)),
        });
        checks.push({
            name: "nothing logged in to the re-keyed host (no stdin, no secret sent)",
            ok: logins === 0,
            detail: `${logins} logins accepted during the apply`,
        });

        // The pinned key back: the same replacement now runs.
        installHostKey(lab.paths.hostKeys, host.name, recordOf(lab, host).rootDir);
        await onHost(lab, host, "systemctl restart ssh");
        const back = Date.now() / 1000;
        const restored = await applyReplacing(`replace ${step.name} with the pinned key back`);
        const done = Date.now() / 1000;
        await sleep(1100);
        checks.push({
            name: "with the pinned key back, the step ran",
            ok: restored.ok && (await acceptedLogins(lab, host, back, done)) > 0,
            detail: restored.ok ? "applied" : restored.output.slice(-300),
        });
        await waitHealthy(ctx.lab(), 300_000);
        return {
            recoverySeconds: null,
            commitsLost: 0,
            promise: "no step runs on a host that shows another key than the pinned one",
            splitBrain: false,
            valuesSent: 0,
            valuesStored: 0,
            checks,
            notes: applies.map(a => `${a.what}: ${a.ok ? "applied" : "failed"}`),
        };
    },
};
