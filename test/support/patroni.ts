/**
 * One DB host's patroni.yml input as the stack would make it for tyo-db1 (Debian's paths, the host's
 * TLS files, the step's password variables), for the unit tests that read the rendered file.
 */
import { PATRONI_TLS } from "../../components/postgres/clusterTls";
import { PatroniInput } from "../../components/postgres/patroniYml";

/** tyo-db1's input; `over` replaces fields. */
export function stackPatroniInput(over: Partial<PatroniInput> = {}): PatroniInput {
    return {
        scope: "zabbix",
        name: "tyo-db1",
        address: "198.18.1.10",
        port: 5432,
        etcdHosts: ["198.18.1.10"],
        dataDir: "/var/lib/patroni",
        binDir: "/usr/lib/postgresql/17/bin",
        pgpass: "/var/lib/postgresql/.pgpass.patroni",
        synchronous: false,
        maxConnections: 100,
        hba: [],
        rewindSources: [],
        superuserPasswordVariable: "SUPERUSER_PASSWORD",
        replicationPasswordVariable: "REPLICATION_PASSWORD",
        tls: PATRONI_TLS,
        restApi: { passwordVariable: "REST_API_PASSWORD", allowlist: ["198.18.1.10"] },
        ...over,
    };
}
