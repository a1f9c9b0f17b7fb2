/**
 * Real Zabbix 6.0 frontends for the config sync checks: Debian's zabbix-frontend-php served by
 * nginx and php-fpm 8.2 from the rendered site and pool, with its own rendered zabbix.conf.php
 * pointing at its own scratch database on loopback; and a JSON-RPC client for their API.
 *
 * Debian's frontend reads its config from the fixed path /etc/zabbix/zabbix.conf.php, so each
 * php-fpm runs in a private mount namespace of its own with the instance's dir bound over
 * /etc/zabbix; the host's /etc/zabbix is never touched.
 */
import { existsSync, readFileSync } from "fs";
import * as https from "https";
import * as path from "path";
import { renderNginxSite, renderPhpFpmPool, renderZabbixConfPhp } from "../../components/zabbix/render";
import {
    PgServer,
    Scratch,
    TestPki,
    freePort,
    nginxPrefixArgs,
    putFile,
    requireTool,
    waitFor,
    writeNginxPrefix,
    writePhpFpmConf,
} from "./support";

/** The user php-fpm and nginx run as on a frontend host. */
export const WEB_USER = "www-data";
/** Where Debian's zabbix-frontend-php installs the frontend. */
export const FRONTEND_ROOT = "/usr/share/zabbix";

interface RpcError {
    code: number;
    message: string;
    data: string;
}

/**
 * One JSON-RPC call to a frontend over HTTPS, its certificate verified against the site's CA;
 * throws with the API's error. The session token goes in the body's `auth` (all 6.0 knows), or in
 * an Authorization header (7.0, which deprecates the body's).
 */
export function api<T = any>(
    site: Pick<Site, "url" | "ca">,
    method: string,
    params: unknown,
    auth?: string,
    authIn: "body" | "header" = "body",
): Promise<T> {
    const inBody = auth && authIn === "body";
    const body = JSON.stringify({ jsonrpc: "2.0", method, params, id: 1, ...(inBody ? { auth } : {}) });
    const headers: Record<string, string> = { "Content-Type": "application/json-rpc" };
    if (auth && !inBody) {
        headers.Authorization = `Bearer ${auth}`;
    }
    return new Promise((resolve, reject) => {
        const { url, ca } = site;
        const req = https.request(url, { method: "POST", headers, timeout: 60_000, ca, agent: false }, res => {
            const chunks: Buffer[] = [];
            res.on("data", b => chunks.push(b));
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString();
                try {
                    const reply = JSON.parse(text) as { result?: T; error?: RpcError };
                    if (reply.error) {
                        reject(new Error(`${method}: ${JSON.stringify(reply.error)}`));
                    } else {
                        resolve(reply.result as T);
                    }
                } catch {
                    reject(new Error(`${method}: HTTP ${res.statusCode}, not JSON-RPC: ${text.slice(0, 500)}`));
                }
            });
        });
        req.on("timeout", () => req.destroy(new Error(`${method}: no answer from ${url}`)));
        req.on("error", reject);
        req.end(body);
    });
}

/** A running frontend: its API's URL (https), the CA its certificate verifies against, and the logs to print when something fails. */
export interface Site {
    readonly name: string;
    readonly url: string;
    /** The CA certificate, PEM. */
    readonly ca: string;
    readonly logs: () => string;
}

/** A file's text, or "(none)" when it does not exist. */
export const readIf = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "(none)");

/**
 * One frontend: php-fpm with the rendered pool in a private mount namespace whose /etc/zabbix is
 * the instance's dir (holding the rendered zabbix.conf.php and the DB password file), and nginx
 * with the rendered site on 127.0.0.1 only, over HTTPS with the test PKI's certificate and root's
 * key (nginx's master reads it as root, as on a frontend host); its DB session verify-full.
 */
export async function startFrontend(
    scratch: Scratch,
    name: string,
    db: PgServer,
    dbName: string,
    dbPassword: string,
    pki: TestPki,
): Promise<Site> {
    // Readable by the web user only, as /etc/zabbix's conf and password are on a frontend host.
    const etc = await scratch.dir(`zabbix-etc-${name}`, WEB_USER);
    const passwordFile = await putFile(path.join(etc, "web-db-password"), `${dbPassword}\n`, 0o600, WEB_USER);
    await putFile(
        path.join(etc, "zabbix.conf.php"),
        renderZabbixConfPhp({
            dbHost: "127.0.0.1",
            dbPort: db.port,
            dbName,
            dbUser: "zabbix",
            dbTls: pki.db,
            passwordFile,
            serverName: `Zabbix ${name}`,
        }),
        0o600,
        WEB_USER,
    );

    const runDir = await scratch.dir(`php-run-${name}`, WEB_USER);
    const socket = path.join(runDir, "zabbix.sock");
    const fpmDir = await scratch.dir(`php-fpm-${name}`);
    const fpmConf = await writePhpFpmConf(fpmDir, renderPhpFpmPool({ socket, user: WEB_USER, timezone: "UTC" }));
    // unshare execs sh, which execs php-fpm: one process group, stopped whole at teardown.
    const fpm = scratch.daemon(
        `php-fpm ${name}`,
        "unshare",
        [
            "--mount",
            "--propagation",
            "private",
            "--",
            requireTool("sh"),
            "-c",
            'mount --bind "$1" /etc/zabbix && exec "$2" -F -y "$3"',
            "sh",
            etc,
            requireTool("php-fpm8.2"),
            fpmConf,
        ],
        { env: { PATH: path.dirname(requireTool("mount")) + ":/usr/sbin:/usr/bin:/sbin:/bin" } },
    );
    await waitFor(`php-fpm ${name} to create its socket`, () => existsSync(socket), {
        watch: [fpm],
        detail: () => readIf(`${fpmDir}/php-fpm.log`),
    });

    const port = await freePort();
    // Owned by the web user: nginx's workers write request bodies over 16k to client_body_temp there.
    const nginxDir = await scratch.dir(`nginx-${name}`, WEB_USER);
    // Loopback only: this shared host's other addresses are not the test's.
    const site = renderNginxSite({
        listenAddresses: ["127.0.0.1"],
        listenPort: port,
        certificateFile: pki.server.certFile,
        keyFile: pki.rootKeyFile,
        root: FRONTEND_ROOT,
        phpSocket: socket,
    });
    await writeNginxPrefix(nginxDir, site, WEB_USER);
    const nginx = scratch.daemon(`nginx ${name}`, "nginx", [...nginxPrefixArgs(nginxDir), "-g", "daemon off;"]);

    const url = `https://127.0.0.1:${port}/api_jsonrpc.php`;
    const ca = readFileSync(pki.client.caFile, "utf8");
    const logs = () =>
        `--- ${name} nginx error.log:\n${readIf(`${nginxDir}/error.log`)}\n--- ${name} php-fpm.log:\n${readIf(`${fpmDir}/php-fpm.log`)}`;
    const version = await waitFor(
        `the ${name} frontend's API to answer`,
        () => api<string>({ url, ca }, "apiinfo.version", []),
        { watch: [fpm, nginx], detail: logs },
    );
    expect(version).toMatch(/^6\.0\./);
    return { name, url, ca, logs };
}

/** A command shim's text: it logs its arguments to `log`, one call a line, then runs `program`. */
export function argvShimText(tool: string, log: string, program: string): string {
    return `#!/bin/sh
printf '%s\\n' "${tool} $*" >> '${log}'
exec '${program}' "$@"
`;
}

/** A command shim in `dir` that logs its arguments, one call a line, then runs this machine's program. */
export async function argvShim(dir: string, tool: string, log: string): Promise<void> {
    await putFile(path.join(dir, tool), argvShimText(tool, log, requireTool(tool)), 0o755);
}
