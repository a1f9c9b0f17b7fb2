/**
 * Pattern 4 in the lab: the "managed" PostgreSQL is a lab host that the stack never logs into (a
 * host with only the db role, which the cloud pattern leaves alone). The lab plays the cloud
 * provider: it installs PostgreSQL there, with TLS (a certificate for the endpoint's address signed
 * by the provider's CA, providerCa.ts, which the plan names as cloud.database.caCertificate), SCRAM
 * logins over TLS only from the lab's networks, and the admin password the plan was given as
 * cloudDbAdminPassword.
 */
import { OsFamily } from "../../../components/config";
import { MANAGED_DATABASE, RESOURCE_TYPES } from "../../../components/facts";
import { platformFor } from "../../../components/platform";
import { asHostUser } from "../../../components/shell";
import { CapturedPlan } from "../../offline";
import { KeyedCertificate, endpointCertificate } from "./providerCa";
import { connectionOf } from "./psql";
import { LAB_BLOCK } from "./settings";
import { sshRun } from "./ssh";
import { LabHost, Topology } from "./topology";

/** What the provider's side installs on a host of `os`; the lab's repository must hold it though no stack step asks for it. */
export function managedDbPackages(os: OsFamily): readonly string[] {
    return platformFor(os).postgres.packages;
}

export interface ManagedEndpoint {
    readonly host: LabHost;
    readonly port: number;
    readonly adminUser: string;
    readonly sslmode: string;
    /** The CA file the provider's session verifies the endpoint against (its sslrootcert), if any: the lab's checks do alike. */
    readonly sslrootcert?: string;
}

/** The lab hosts that a plan's managed-database providers connect to (none for the other patterns). */
export function managedEndpoints(plan: CapturedPlan, lab: Topology): ManagedEndpoint[] {
    const managed = new Set(plan.resources.filter(r => r.type === MANAGED_DATABASE.token).map(r => r.id));
    const found: ManagedEndpoint[] = [];
    for (const provider of plan.resources.filter(
        r => r.type === RESOURCE_TYPES.postgresqlProvider && r.parent !== undefined && managed.has(r.parent),
    )) {
        const host = lab.hosts.find(h => h.address === String(provider.inputs.host));
        if (!host) {
            throw new Error(
                `the managed database's endpoint ${String(provider.inputs.host)} is not a lab host: give cloud.database.host the address of a db-only host of the lab config`,
            );
        }
        const conn = connectionOf(provider.inputs);
        found.push({
            host,
            port: Number(conn.port),
            adminUser: conn.username,
            sslmode: conn.sslmode,
            ...(conn.sslrootcert ? { sslrootcert: conn.sslrootcert } : {}),
        });
    }
    return found;
}

/**
 * The provider's side of a managed PostgreSQL, sent over SSH with the admin password, then the
 * endpoint's certificate and key (base64, a line each) on stdin.
 */
export function managedDatabaseScript(endpoint: Pick<ManagedEndpoint, "port" | "adminUser" | "host">): string {
    const pg = platformFor(endpoint.host.os).postgres;
    const packages = managedDbPackages(endpoint.host.os);
    return `set -eu
umask 077
IFS= read -r ADMIN_PASSWORD
IFS= read -r SERVER_CERT
IFS= read -r SERVER_KEY
export DEBIAN_FRONTEND=noninteractive
dpkg-query -W -f='\${Status}' ${packages[0]} 2>/dev/null | grep -q 'ok installed' || {
  apt-get update -q
  apt-get install -y -q --no-install-recommends ${packages.join(" ")}
}
conf=${pg.configDir}
# The provider's certificate for the endpoint, signed by the CA the stack's config names.
printf %s "$SERVER_CERT" | base64 -d > "$conf/managed-server.crt"
printf %s "$SERVER_KEY" | base64 -d > "$conf/managed-server.key"
chown postgres:postgres "$conf/managed-server.crt" "$conf/managed-server.key"
chmod 0644 "$conf/managed-server.crt"
chmod 0600 "$conf/managed-server.key"
printf "%s\\n" "listen_addresses = '*'" "port = ${endpoint.port}" "password_encryption = 'scram-sha-256'" "ssl = on" \\
  "ssl_cert_file = '$conf/managed-server.crt'" "ssl_key_file = '$conf/managed-server.key'" > "$conf/conf.d/managed.conf"
# As a provider does: the admin logs in over TLS with a password, from the client networks only.
printf "%s\\n" "local all postgres peer" "hostssl all all ${LAB_BLOCK} scram-sha-256" > "$conf/pg_hba.conf"
chown postgres:postgres "$conf/conf.d/managed.conf" "$conf/pg_hba.conf"
chmod 0644 "$conf/conf.d/managed.conf"
systemctl restart ${pg.service}
pw_sql=$(printf %s "$ADMIN_PASSWORD" | sed "s/'/''/g")
runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p ${endpoint.port} <<SQL
DO \\$\\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${endpoint.adminUser}') THEN CREATE ROLE "${endpoint.adminUser}" CREATEDB CREATEROLE; END IF;
END \\$\\$;
ALTER ROLE "${endpoint.adminUser}" WITH LOGIN PASSWORD '$pw_sql';
SQL
echo "managed PostgreSQL ready"
`;
}

/** Plays the provider on the endpoint's host; fails with the host's output. */
export async function provisionManagedDatabase(
    endpoint: ManagedEndpoint,
    password: string,
    keyFile: string,
    providerCa: KeyedCertificate,
    log: (line: string) => void,
): Promise<void> {
    const started = Date.now();
    const { host } = endpoint;
    const served = endpointCertificate(providerCa, host);
    const line = (pem: string) => Buffer.from(pem, "utf8").toString("base64");
    const result = await sshRun({
        host: host.address,
        port: host.sshPort,
        user: host.sshUser,
        key: keyFile,
        command: asHostUser(managedDatabaseScript(endpoint), host.sshUser),
        input: `${password}\n${line(served.certPem)}\n${line(served.keyPem)}\n`,
        timeoutMs: 300_000,
    });
    if (result.code !== 0) {
        throw new Error(
            `the lab could not play the managed PostgreSQL on ${host.name}:\n${result.stdout}${result.stderr}`,
        );
    }
    log(
        `managed PostgreSQL on ${host.name} (${host.address}:${endpoint.port}), played by the lab, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
}
