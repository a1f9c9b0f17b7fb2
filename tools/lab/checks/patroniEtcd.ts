/**
 * What `up` proves of Patroni's REST API and etcd once applied (issue 16): from a DB host, which
 * holds the stack's certificate and is in the REST API's allowlist, an unauthenticated
 * `PATCH /config` is refused (401), and neither the REST API nor etcd answers plain HTTP or a TLS
 * client without a certificate. Not yet run on the lab.
 */
import { CA_FILE } from "../../../components/pki/files";
import { ETCD_CLIENT_PORT } from "../../../components/postgres/etcdEnvironment";
import { PATRONI_CURL, patroniRestUrl } from "../../../components/postgres/patroniSteps";
import { PATRONI_REST_PORT } from "../../../components/postgres/patroniYml";
import { LabHost, Topology, sshRun } from "../machines";
import type { Check } from "./verify";

/** The HTTP status curl printed (000 when no HTTP answer came), from a command on `host`. */
async function statusOn(host: LabHost, key: string, command: string): Promise<string> {
    const out = await sshRun({
        host: host.address,
        port: host.sshPort,
        user: host.sshUser,
        key,
        command,
        timeoutMs: 30_000,
    });
    return out.stdout.trim().slice(-3) || `exit ${out.code}`;
}

const code = `-s -o /dev/null -m 5 -w '%{http_code}'`;

/** A check that passes when no probe (a command on `host`, by what it tries) got a success (2xx). */
async function refused(name: string, host: LabHost, key: string, probes: Record<string, string>): Promise<Check> {
    const answers: Record<string, string> = {};
    for (const [probe, command] of Object.entries(probes)) {
        answers[probe] = await statusOn(host, key, command);
    }
    const bad = Object.entries(answers).filter(([, status]) => /^2\d\d$/.test(status));
    return {
        name,
        ok: bad.length === 0,
        detail: Object.entries(answers)
            .map(([probe, status]) => `${probe}: ${status}`)
            .join(", "),
    };
}

/** Patroni's REST API on the primary, asked from the primary's own shell (a member of its allowlist). */
export async function checkPatroniRestLocked(label: string, primary: LabHost, key: string): Promise<Check[]> {
    const rest = patroniRestUrl(primary.address);
    const patch = `${PATRONI_CURL} ${code} -X PATCH -H 'Content-Type: application/json' -d '{"ttl": 17}' ${rest}/config`;
    const unauthenticated = await statusOn(primary, key, patch);
    return [
        {
            name: `${label}Patroni REST: unauthenticated PATCH /config refused`,
            ok: unauthenticated === "401",
            detail: `PATCH /config with the host's certificate and no password answered ${unauthenticated} (401 expected)`,
        },
        await refused(`${label}Patroni REST: plain HTTP and certificate-less TLS refused`, primary, key, {
            "plain HTTP GET /primary": `curl ${code} http://${primary.address}:${PATRONI_REST_PORT}/primary`,
            "TLS without a client certificate": `curl ${code} --cacert ${CA_FILE} ${rest}/primary`,
        }),
    ];
}

/** The primary's etcd member, asked from its own host. */
export function checkEtcdTls(label: string, primary: LabHost, key: string): Promise<Check> {
    const member = `${primary.address}:${ETCD_CLIENT_PORT}`;
    return refused(`${label}etcd: plain HTTP and certificate-less TLS refused`, primary, key, {
        "plain HTTP GET /version": `curl ${code} http://${member}/version`,
        "TLS without a client certificate": `curl ${code} --cacert ${CA_FILE} https://${member}/version`,
    });
}

/** Both, where the lab's stack runs Patroni. */
export async function checkPatroniAndEtcdLocked(
    lab: Topology,
    label: string,
    primary: LabHost | undefined,
    key: string,
): Promise<Check[]> {
    if (lab.config.db.failover !== "patroni" || !primary) {
        return [];
    }
    return [...(await checkPatroniRestLocked(label, primary, key)), await checkEtcdTls(label, primary, key)];
}
