/**
 * haproxy.cfg and the primary check script, checked by HAProxy itself and then run on loopback in
 * front of two scratch PostgreSQL 15 servers: the DB port must reach only the read-write primary,
 * and follow it to the standby once that is promoted.
 */
import * as net from "net";
import * as path from "path";
import { renderNewestPrimaryWatch } from "../../components/loadbalancer/render";
import { HaproxyInput, renderHaproxyCfg } from "../../components/loadbalancer/render";
import { CHECK_ROLE } from "../../components/postgres/render";
import {
    askThroughBalancer,
    checkFile,
    expectAccepted,
    expectRejected,
    FileCheck,
    freePort,
    installPrimaryCheck,
    loopbackBalancerUi,
    loopbackPair,
    ok,
    password,
    PgServer,
    putFile,
    run,
    scratchSpace,
    serverStatus,
    TestPki,
    testPki,
    waitFor,
} from "./support";

jest.setTimeout(120_000);

/** `haproxy -c` exits 1 on errors and prints this line only when it accepts the file. */
const HAPROXY_CHECK: FileCheck = {
    tool: "haproxy",
    fileName: "haproxy.cfg",
    args: file => ["-c", "-f", file],
    accepted: output => /Configuration file is valid/.test(output),
};

const scratch = scratchSpace();
const checkPassword = password();
const replicationPassword = password();

/** The test PKI: `haproxy -c` reads the certificate and the CA the UI's lines name. */
let pki: TestPki;
beforeAll(async () => {
    pki = await testPki(scratch);
});

/** Renders with scratch paths, the test PKI and loopback backends (the DB servers are filled in once they exist). */
function haproxyInput(over: Partial<HaproxyInput> = {}): HaproxyInput {
    return {
        site: "test",
        bindAddress: "127.0.0.1",
        tls: { certificateWithKey: pki.haproxyPemFile, caFile: pki.client.caFile },
        httpPort: 18080,
        httpsPort: 18443,
        localFrontends: [{ name: "web-local", address: "127.0.0.1", port: 18081 }],
        remoteFrontends: [{ name: "web-remote", address: "127.0.0.1", port: 18082 }],
        dbPort: 15433,
        dbServers: [
            { name: "db-a", address: "127.0.0.1", port: 15432 },
            { name: "db-b", address: "127.0.0.1", port: 15434 },
        ],
        dbAllowedSources: ["127.0.0.1"],
        primaryCheckCommand: "/etc/haproxy/pg-is-primary",
        runDir: "/run/haproxy",
        ...over,
    };
}

describe("haproxy.cfg as HAProxy reads it", () => {
    test("haproxy -c accepts the rendered configuration", async () => {
        const result = await checkFile(HAPROXY_CHECK, renderHaproxyCfg(haproxyInput({ runAs: "haproxy" })));
        expectAccepted(result);
        expect(result.output).not.toMatch(/\[(ALERT|WARNING)\]/);
    });

    test("haproxy -c accepts the UI-only configuration of a site without DB servers", async () => {
        const result = await checkFile(
            HAPROXY_CHECK,
            renderHaproxyCfg(haproxyInput({ runAs: "haproxy", dbServers: [] })),
        );
        expectAccepted(result);
        expect(result.output).not.toMatch(/\[(ALERT|WARNING)\]/);
    });

    test("haproxy -c rejects a configuration with an unknown keyword", async () => {
        const broken = renderHaproxyCfg(haproxyInput()).replace(
            "    option tcpka\n",
            "    option tcpka\n    no-such-keyword on\n",
        );
        expectRejected(await checkFile(HAPROXY_CHECK, broken), /unknown keyword 'no-such-keyword'/);
    });
});

/**
 * Opens a TCP connection from `source` and sends PostgreSQL's SSLRequest: a server answers one
 * byte ("S": TLS, as every host rule is hostssl). Resolves with what came back before the connection closed.
 */
function sslRequestFrom(source: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        const conn = net.createConnection({ host: "127.0.0.1", port, localAddress: source }, () => {
            const request = Buffer.alloc(8);
            request.writeInt32BE(8, 0);
            request.writeInt32BE(80877103, 4);
            conn.write(request);
        });
        conn.setTimeout(5_000, () => conn.destroy(new Error(`no answer from 127.0.0.1:${port} (source ${source})`)));
        conn.on("data", b => {
            chunks.push(b);
            conn.end();
        });
        conn.on("error", e => ((e as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(e)));
        conn.on("close", () => resolve(Buffer.concat(chunks).toString()));
    });
}

describe("HAProxy running the rendered configuration in front of two PostgreSQL servers", () => {
    let primary: PgServer;
    let standby: PgServer;
    let lbDbPort: number;
    let checkPassfile: string;
    let checkScript: string;
    let statsSocket: string;

    /** What a client gets through HAProxy's DB port: "<server port>|<in recovery>|<session encrypted>". */
    const throughHaproxy = async () => ok(await askThroughBalancer(lbDbPort, checkPassfile, pki.db)).stdout.trim();

    beforeAll(async () => {
        const [primaryPort, standbyPort] = [await freePort(), await freePort()];
        // The cluster's own settings and hba, as a DB host gets them; HAProxy and the check come from 127.0.0.1.
        // The standby: pg_basebackup -R (it writes primary_conninfo and standby.signal), on its own port.
        ({ primary, standby } = await loopbackPair(
            scratch,
            ["primary", "standby"],
            [primaryPort, standbyPort],
            {
                check: checkPassword,
                replication: replicationPassword,
            },
            pki,
        ));
        expect(await standby.sql("select pg_is_in_recovery()")).toBe("t");

        // The check script and its .pgpass, as the lb step installs them, in scratch paths.
        const lbDir = await scratch.dir("haproxy");
        ({ checkPassfile, checkScript } = await installPrimaryCheck(lbDir, checkPassword, pki.client));
        lbDbPort = await freePort();
        const dbServers = [
            { name: "db-primary", address: "127.0.0.1", port: primaryPort },
            { name: "db-standby", address: "127.0.0.1", port: standbyPort },
        ];
        const cfg = await putFile(
            path.join(lbDir, "haproxy.cfg"),
            renderHaproxyCfg(
                haproxyInput({
                    ...(await loopbackBalancerUi(pki)),
                    localFrontends: [{ name: "web-local", address: "127.0.0.1", port: await freePort() }],
                    remoteFrontends: [{ name: "web-remote", address: "127.0.0.1", port: await freePort() }],
                    dbPort: lbDbPort,
                    dbServers,
                    primaryCheckCommand: checkScript,
                    runDir: lbDir,
                }),
            ),
        );
        statsSocket = path.join(lbDir, "admin.sock");
        const haproxy = scratch.daemon("haproxy", "haproxy", ["-db", "-f", cfg], { cwd: lbDir });
        // The newest-primary watcher, as it runs beside HAProxy: the DB servers start in maintenance until it decides.
        const watch = await putFile(
            path.join(lbDir, "newest-primary-watch"),
            renderNewestPrimaryWatch({
                user: CHECK_ROLE,
                passfile: checkPassfile,
                servers: dbServers,
                adminSocket: statsSocket,
                tls: pki.client,
            }),
            0o755,
        );
        const watcher = scratch.daemon("newest-primary-watch", watch, []);
        await waitFor(
            "the watcher and the checks to mark db-primary UP and db-standby in maintenance",
            async () => {
                const status = await serverStatus(statsSocket, "postgres_primary");
                return status["db-primary"] === "UP" && status["db-standby"] === "MAINT";
            },
            { detail: () => `haproxy output:\n${haproxy.output()}\nwatcher output:\n${watcher.output()}` },
        );
    });

    test("the check script passes the primary and fails the standby", async () => {
        // HAProxy calls it with <proxy addr> <proxy port> <server addr> <server port>.
        const check = (port: number) =>
            run("sh", [checkScript, "0.0.0.0", String(lbDbPort), "127.0.0.1", String(port)]);
        expect((await check(primary.port)).code).toBe(0);
        expect((await check(standby.port)).code).toBe(1);
    });

    test("the DB port reaches only the primary", async () => {
        for (let i = 0; i < 4; i++) {
            expect(await throughHaproxy()).toBe(`${primary.port}|f|t`);
        }
    });

    test("a client from a source outside dbAllowedSources is cut off before it reaches PostgreSQL", async () => {
        expect(await sslRequestFrom("127.0.0.1", lbDbPort)).toBe("S");
        expect(await sslRequestFrom("127.0.0.2", lbDbPort)).toBe("");
    });

    test("after the primary stops and the standby is promoted, the DB port reaches the new primary", async () => {
        await primary.stop("fast");
        ok(await run("pg_ctl", ["-w", "-D", standby.data, "promote"], { user: "postgres", cwd: standby.dir }));
        await waitFor(
            "HAProxy's DB port to reach the promoted standby",
            async () => (await throughHaproxy()) === `${standby.port}|f|t`,
            {
                timeoutMs: 30_000,
                detail: async () => JSON.stringify(await serverStatus(statsSocket, "postgres_primary")),
            },
        );
        expect(await serverStatus(statsSocket, "postgres_primary")).toEqual({
            "db-primary": "DOWN",
            "db-standby": "UP",
        });
    });
});
