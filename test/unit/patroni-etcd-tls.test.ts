/**
 * Patroni's REST API and etcd as rendered: TLS everywhere with the host's certificate, client
 * certificates asked for, the REST API's unsafe endpoints behind a password and an allowlist, and
 * the load balancers' Patroni check over TLS. The real programs are in test/real (patroni-cluster,
 * etcd-leader); this reads the files.
 */
import { execFileSync } from "child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse } from "yaml";
import { UI_HTTPS_PORT } from "../../components/loadbalancer/ports";
import { renderHaproxyCfg } from "../../components/loadbalancer/render";
import { CA_FILE, CERT_FILE, ETCD_KEY, HAPROXY_PEM, POSTGRES_KEY } from "../../components/pki/files";
import { etcdPlainPeersGuard } from "../../components/postgres/patroniSteps";
import {
    PATRONI_REST_USER,
    patroniClusterSettings,
    patroniRestAllowlist,
    renderEtcdEnvironment,
    renderPatroniConfig,
} from "../../components/postgres/render";
import { stackPatroniInput } from "../support/patroni";

const MEMBERS = [
    { name: "osa-db1", address: "198.18.20.11" },
    { name: "tyo-db1", address: "198.18.10.11" },
    { name: "wit-1", address: "198.18.30.11" },
];

describe("/etc/default/etcd", () => {
    const vars = Object.fromEntries(
        renderEtcdEnvironment(MEMBERS[1], MEMBERS, "zabbix-db-etcd")
            .split("\n")
            .filter(line => /^ETCD_/.test(line))
            .map(line => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 2, -1)]),
    );

    test("every client and peer URL is https", () => {
        const urls = [
            "ETCD_LISTEN_PEER_URLS",
            "ETCD_LISTEN_CLIENT_URLS",
            "ETCD_INITIAL_ADVERTISE_PEER_URLS",
            "ETCD_ADVERTISE_CLIENT_URLS",
        ].flatMap(name => vars[name].split(","));
        const cluster = vars.ETCD_INITIAL_CLUSTER.split(",").map(m => m.slice(m.indexOf("=") + 1));
        expect([...urls, ...cluster].filter(url => !url.startsWith("https://"))).toEqual([]);
        expect(cluster).toHaveLength(MEMBERS.length);
    });

    test("clients and peers present a certificate of the stack's CA; the member serves the host's with etcd's key", () => {
        expect(vars).toMatchObject({
            ETCD_CERT_FILE: CERT_FILE,
            ETCD_KEY_FILE: ETCD_KEY,
            ETCD_TRUSTED_CA_FILE: CA_FILE,
            ETCD_CLIENT_CERT_AUTH: "true",
            ETCD_PEER_CERT_FILE: CERT_FILE,
            ETCD_PEER_KEY_FILE: ETCD_KEY,
            ETCD_PEER_TRUSTED_CA_FILE: CA_FILE,
            ETCD_PEER_CLIENT_CERT_AUTH: "true",
        });
    });
});

describe("patroni.yml's REST API, patronictl and etcd client", () => {
    const allowlist = patroniRestAllowlist({
        dbHosts: ["198.18.20.11", "198.18.10.11"],
        loadBalancers: ["198.18.20.41", "198.18.10.41", "198.18.10.41"],
        adminNetwork: "198.18.100.0/24",
    });
    const yml = parse(
        renderPatroniConfig(
            stackPatroniInput({
                scope: "zabbix-db",
                address: "198.18.10.11",
                etcdHosts: MEMBERS.map(m => m.address),
                restApi: { passwordVariable: "REST_API_PASSWORD", allowlist },
            }),
        ),
    );

    test("the allowlist is the DB hosts, the load balancers and the admin network, once each, in address order", () => {
        expect(allowlist).toEqual(["198.18.10.11", "198.18.10.41", "198.18.20.11", "198.18.20.41", "198.18.100.0/24"]);
        expect(yml.restapi.allowlist).toEqual(allowlist);
    });

    test("the REST API serves the host's certificate, requires clients' and puts unsafe endpoints behind a password from stdin", () => {
        expect(yml.restapi).toMatchObject({
            listen: "198.18.10.11:8008",
            certfile: CERT_FILE,
            keyfile: POSTGRES_KEY,
            cafile: CA_FILE,
            verify_client: "required",
            authentication: { username: PATRONI_REST_USER, password: "$REST_API_PASSWORD" },
        });
    });

    test("patronictl and the etcd client verify against the CA and present the certificate", () => {
        expect(yml.ctl).toEqual({ cacert: CA_FILE, certfile: CERT_FILE, keyfile: POSTGRES_KEY });
        expect(yml.etcd3).toEqual({
            protocol: "https",
            hosts: MEMBERS.map(m => `${m.address}:2379`),
            cacert: CA_FILE,
            cert: CERT_FILE,
            key: POSTGRES_KEY,
        });
    });

    test("failsafe mode is on, in bootstrap and in the settings the settings step keeps in etcd", () => {
        expect(yml.bootstrap.dcs.failsafe_mode).toBe(true);
        expect(patroniClusterSettings(false)).toContainEqual(["failsafe_mode", "true"]);
    });
});

test("the load balancers' Patroni check speaks TLS to the REST API only, verifying each DB host's name and presenting HAProxy's certificate", () => {
    const cfg = renderHaproxyCfg({
        site: "tokyo",
        bindAddress: "198.18.10.41",
        tls: { certificateWithKey: HAPROXY_PEM, caFile: CA_FILE },
        httpPort: 80,
        httpsPort: UI_HTTPS_PORT,
        localFrontends: [],
        remoteFrontends: [],
        dbPort: 5433,
        dbServers: [
            { name: "tyo-db1", address: "198.18.10.11", port: 5432 },
            { name: "osa-db1", address: "198.18.20.11", port: 5432 },
        ],
        dbAllowedSources: ["198.18.10.21"],
        primaryCheckCommand: "/unused",
        dbCheck: "patroni",
        runDir: "/run/haproxy",
    });
    const db = cfg.slice(cfg.indexOf("listen postgres_primary"));
    expect(db).toContain(
        `default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions port 8008 check-ssl verify required ca-file ${CA_FILE} crt ${HAPROXY_PEM}\n`,
    );
    expect(db).toContain("    server tyo-db1 198.18.10.11:5432 check verifyhost tyo-db1\n");
    expect(db).toContain("    server osa-db1 198.18.20.11:5432 check verifyhost osa-db1\n");
    // The sessions themselves pass through as TCP: PostgreSQL's own TLS, end to end.
    expect(db).not.toMatch(/ ssl( |$)/m);
});

describe("a member that ran with plain-HTTP peers is refused, not switched in place", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "zha-etcd-guard-"));
    const env = path.join(dir, "etcd");
    const data = path.join(dir, "data");
    const guard = () => {
        try {
            execFileSync("sh", ["-c", `set -eu\n${etcdPlainPeersGuard(env, data)}\necho passed`], { stdio: "pipe" });
            return "passed";
        } catch (err) {
            return String((err as { stderr: Buffer }).stderr);
        }
    };
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test("a new member (no data dir) passes, whatever the old file said", () => {
        writeFileSync(env, 'ETCD_LISTEN_PEER_URLS="http://198.18.10.11:2380"\n');
        expect(guard()).toBe("passed");
    });

    test("an existing member with plain-HTTP peers stops the step, naming the way over", () => {
        mkdirSync(path.join(data, "member"), { recursive: true });
        expect(guard()).toMatch(/plain-HTTP peers: switching it to TLS in place would cut its members apart/);
    });

    test("an existing member already on TLS passes", () => {
        writeFileSync(env, renderEtcdEnvironment(MEMBERS[1], MEMBERS, "zabbix-db-etcd"));
        expect(guard()).toBe("passed");
    });
});
