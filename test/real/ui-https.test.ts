/**
 * The UI's whole path with the rendered files, on loopback: HAProxy with the rendered haproxy.cfg
 * (UI only) in front of nginx with the rendered site and php-fpm with the rendered pool, every TLS
 * file from the test PKI. Proves what a user and a load balancer see: HTTP only redirects, HTTPS
 * verifies against the stack's CA with HSTS, TLS 1.1 is refused, and the frontend is reached over
 * TLS whose certificate must name the server HAProxy lists.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { HSTS_HEADER, renderHaproxyCfg } from "../../components/loadbalancer/render";
import { renderNginxSite, renderPhpFpmPool } from "../../components/zabbix/render";
import {
    TestPki,
    freePort,
    nginxPrefixArgs,
    loopbackBalancerUi,
    putFile,
    run,
    scratchSpace,
    serverStatus,
    testPki,
    waitFor,
    writeNginxPrefix,
    writePhpFpmConf,
} from "./support";

jest.setTimeout(60_000);

const scratch = scratchSpace();
const WEB_USER = "www-data";

let pki: TestPki;
let httpPort: number;
let httpsPort: number;
let nginxPort: number;
let statsSocket: string;

const curl = (args: readonly string[]) => run("curl", ["-sS", "-m", "10", ...args]);
/** openssl s_client against HAProxy's HTTPS port, verifying against the test CA. */
const sClient = (args: readonly string[]) =>
    run(
        "openssl",
        [
            "s_client",
            "-connect",
            `127.0.0.1:${httpsPort}`,
            "-CAfile",
            pki.client.caFile,
            "-verify_return_error",
            "-verify_ip",
            "127.0.0.1",
            ...args,
        ],
        { input: "" },
    );

beforeAll(async () => {
    pki = await testPki(scratch);
    // A page that says how PHP was reached: HTTPS is "on" only when nginx took the request over TLS.
    const root = await scratch.dir("docroot", WEB_USER);
    await putFile(
        path.join(root, "index.php"),
        "<?php echo json_encode(['https' => $_SERVER['HTTPS'] ?? '', 'uri' => $_SERVER['REQUEST_URI']]);\n",
    );
    const socketDir = await scratch.dir("php-run", WEB_USER);
    const socket = path.join(socketDir, "zabbix.sock");
    const fpmDir = await scratch.dir("php-fpm");
    const pool = renderPhpFpmPool({ socket, user: WEB_USER, timezone: "UTC" });
    const fpm = scratch.daemon("php-fpm", "php-fpm8.2", ["-F", "-y", await writePhpFpmConf(fpmDir, pool)]);
    await waitFor("php-fpm to create its socket", () => existsSync(socket), { watch: [fpm] });

    // nginx's master reads root's copy of the key as root, as on a frontend host.
    nginxPort = await freePort();
    const nginxDir = await scratch.dir("nginx", WEB_USER);
    const site = renderNginxSite({
        listenAddresses: ["127.0.0.1"],
        listenPort: nginxPort,
        certificateFile: pki.server.certFile,
        keyFile: pki.rootKeyFile,
        root,
        phpSocket: socket,
    });
    await writeNginxPrefix(nginxDir, site, WEB_USER);
    const nginx = scratch.daemon("nginx", "nginx", [...nginxPrefixArgs(nginxDir), "-g", "daemon off;"]);

    // The test certificate names localhost, not web-remote: the same nginx passes as one server and fails as the other.
    const lbDir = await scratch.dir("haproxy");
    const ui = await loopbackBalancerUi(pki);
    ({ httpPort, httpsPort } = ui);
    const cfg = await putFile(
        path.join(lbDir, "haproxy.cfg"),
        renderHaproxyCfg({
            site: "test",
            ...ui,
            localFrontends: [{ name: "localhost", address: "127.0.0.1", port: nginxPort }],
            remoteFrontends: [{ name: "web-remote", address: "127.0.0.1", port: nginxPort }],
            dbPort: await freePort(),
            dbServers: [],
            dbAllowedSources: [],
            primaryCheckCommand: "/nonexistent/unused-without-db",
            runDir: lbDir,
        }),
    );
    statsSocket = path.join(lbDir, "admin.sock");
    const haproxy = scratch.daemon("haproxy", "haproxy", ["-db", "-f", cfg], { cwd: lbDir });
    await waitFor(
        "HAProxy's check to pass the frontend named in its certificate and fail the other",
        async () => {
            const status = await serverStatus(statsSocket, "zabbix_frontends");
            return status.localhost === "UP" && status["web-remote"] === "DOWN";
        },
        {
            watch: [haproxy, nginx, fpm],
            detail: () => `haproxy:\n${haproxy.output()}\nnginx:\n${readFileSync(`${nginxDir}/error.log`, "utf8")}`,
        },
    );
});

test("plain HTTP answers only a 301 to the same URL over HTTPS", async () => {
    const result = await curl([
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{redirect_url}",
        `http://127.0.0.1:${httpPort}/index.php?a=1`,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`301 https://127.0.0.1:${httpsPort}/index.php?a=1`);
});

test("HTTPS serves the frontend's page with HSTS, the certificate verified against the stack's CA, the frontend reached over TLS", async () => {
    const result = await curl(["-D", "-", "--cacert", pki.client.caFile, `https://127.0.0.1:${httpsPort}/index.php`]);
    expect(result.code).toBe(0);
    const [head, body] = result.stdout.split(/\r\n\r\n/);
    expect(head).toMatch(/^HTTP\/\S+ 200/);
    expect(head).toMatch(new RegExp(`^strict-transport-security: ${HSTS_HEADER}\\r?$`, "im"));
    // PHP saw HTTPS "on": nginx took HAProxy's request over TLS.
    expect(JSON.parse(body)).toEqual({ https: "on", uri: "/index.php" });
});

test("a client that does not trust the stack's CA is refused the connection", async () => {
    const other = await testPki(scratch, "Another CA");
    const result = await curl(["--cacert", other.client.caFile, `https://127.0.0.1:${httpsPort}/index.php`]);
    // curl's 60: the peer's certificate cannot be verified with the given CA.
    expect(result.code).toBe(60);
});

test("openssl verifies the certificate chain and the address; TLS 1.2 is served, TLS 1.1 refused by the server", async () => {
    const verified = await sClient(["-tls1_2"]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/Verify return code: 0 \(ok\)/);
    expect(verified.stdout).toMatch(/Protocol\s*: TLSv1\.2/);
    // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal is the server's alert.
    const old = await sClient(["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    expect(old.code).not.toBe(0);
    expect(old.output).toMatch(/alert protocol version/);
});

test("nginx speaks TLS only: a plain HTTP request to the frontend's port is answered 400", async () => {
    const result = await curl(["-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${nginxPort}/index.php`]);
    expect(result.stdout).toBe("400");
});
