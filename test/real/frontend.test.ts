/**
 * The frontend's files, read by the programs that read them on a frontend host: the nginx site by
 * nginx, the pool by php-fpm 8.2, zabbix.conf.php by PHP and by the Zabbix frontend's own config
 * loader. Then nginx and php-fpm run with the rendered site and pool and serve a PHP page.
 */
import { existsSync, readFileSync } from "fs";
import { chown } from "fs/promises";
import * as https from "https";
import * as path from "path";
import { renderNginxSite, renderPhpFpmPool, renderZabbixConfPhp } from "../../components/zabbix/render";
import {
    FileCheck,
    Scratch,
    TestPki,
    checkFile,
    expectAccepted,
    expectRejected,
    freePort,
    nginxPrefixArgs,
    putFile,
    requireFile,
    run,
    requirePhpExtension,
    scratchSpace,
    testPki,
    userInfo,
    waitFor,
    writeNginxPrefix,
    writePhpFpmConf,
} from "./support";

jest.setTimeout(60_000);

const scratch = scratchSpace();
const WEB_USER = "www-data";
const FRONTEND_ROOT = "/usr/share/zabbix";

/** The rendered site in a fresh nginx prefix directory of the test's own. */
async function nginxPrefix(s: Scratch, site: string): Promise<string> {
    const dir = await s.dir("nginx");
    await writeNginxPrefix(dir, site, WEB_USER);
    return dir;
}

/** The rendered pool under a minimal global php-fpm.conf in a fresh temp dir. */
async function phpFpmConf(s: Scratch, pool: string): Promise<string> {
    return writePhpFpmConf(await s.dir("php-fpm"), pool);
}

async function phpFpmCheck(pool: string) {
    const s = new Scratch();
    try {
        const conf = await phpFpmConf(s, pool);
        const result = await run("php-fpm8.2", ["-t", "-y", conf]);
        return {
            ...result,
            accepted: result.code === 0 && /configuration file .* test is successful/.test(result.output),
        };
    } finally {
        await s.cleanup();
    }
}

async function nginxCheck(site: string) {
    const s = new Scratch();
    try {
        const dir = await nginxPrefix(s, site);
        const result = await run("nginx", ["-t", ...nginxPrefixArgs(dir)]);
        return {
            ...result,
            accepted: result.code === 0 && /configuration file .* test is successful/.test(result.output),
        };
    } finally {
        await s.cleanup();
    }
}

/** `php -l` exits 255 on a parse error and prints this line only for a clean file. */
const PHP_LINT: FileCheck = {
    tool: "php",
    fileName: "zabbix.conf.php",
    args: file => ["-l", file],
    accepted: output => /^No syntax errors detected in /m.test(output),
};

/** The rendered site on loopback only (this shared host's other addresses are not the test's), with the test PKI. */
const site = (over: Partial<Parameters<typeof renderNginxSite>[0]> = {}) =>
    renderNginxSite({
        listenAddresses: ["127.0.0.1"],
        listenPort: 8080,
        certificateFile: pki.server.certFile,
        keyFile: pki.rootKeyFile,
        root: FRONTEND_ROOT,
        phpSocket: "/run/php/zabbix.sock",
        ...over,
    });
const pool = (over: Partial<Parameters<typeof renderPhpFpmPool>[0]> = {}) =>
    renderPhpFpmPool({ socket: "/run/php/zabbix.sock", user: WEB_USER, timezone: "Asia/Tokyo", ...over });
/** The frontend's DB session: verify-full against the test CA (a real file the web user can read). */
let pki: TestPki;
beforeAll(async () => {
    pki = await testPki(scratch);
});
const confPhp = (passwordFile: string) =>
    renderZabbixConfPhp({
        dbHost: "198.18.10.41",
        dbPort: 5433,
        dbName: "zabbix",
        dbUser: "zabbix",
        dbTls: pki.db,
        passwordFile,
        serverName: "Zabbix tokyo",
    });

describe("nginx site", () => {
    test("nginx -t accepts the rendered site", async () => {
        const result = await nginxCheck(site());
        expectAccepted(result);
        expect(result.output).not.toMatch(/\[(warn|emerg|alert)\]/);
    });

    test("nginx -t rejects a site with a syntax error", async () => {
        const broken = site().replace(/}\n$/, "");
        expectRejected(await nginxCheck(broken), /unexpected end of file, expecting "}"/);
    });
});

describe("php-fpm pool", () => {
    test("php-fpm8.2 -t accepts the rendered pool", async () => {
        const result = await phpFpmCheck(pool());
        expectAccepted(result);
        expect(result.output).not.toMatch(/WARNING|ERROR/);
    });

    test("php-fpm8.2 -t rejects a pool with an unknown entry", async () => {
        expectRejected(await phpFpmCheck(`${pool()}pm.max_kids = 5\n`), /unknown entry 'pm\.max_kids'/);
    });
});

describe("zabbix.conf.php", () => {
    let dir: string;
    let passwordFile: string;
    let confFile: string;
    const dbPassword = "s3cretPassw0rd";
    /**
     * The DB settings confPhp renders, as PHP sees them (the port a string), the password from its
     * file, and TLS on with the CA and the host check (the frontend's sslmode=verify-full).
     */
    const renderedDb = () => ({
        TYPE: "POSTGRESQL",
        SERVER: "198.18.10.41",
        PORT: "5433",
        PASSWORD: dbPassword,
        ENCRYPTION: true,
        CA_FILE: pki.client.caFile,
        VERIFY_HOST: true,
    });

    beforeAll(async () => {
        // As on a frontend host: the web server's user reads both files, nobody else does.
        dir = await scratch.dir("zabbix-conf", WEB_USER);
        const web = userInfo(WEB_USER);
        passwordFile = await putFile(path.join(dir, "web-db-password"), `${dbPassword}\n`, 0o640);
        confFile = await putFile(path.join(dir, "zabbix.conf.php"), confPhp(passwordFile), 0o640);
        await Promise.all([passwordFile, confFile].map(file => chown(file, 0, web.gid)));
    });

    test("php -l finds no syntax error", async () => {
        expectAccepted(await checkFile(PHP_LINT, confPhp("/etc/zabbix/web-db-password")));
    });

    test("php -l rejects a file with a parse error", async () => {
        const broken = confPhp("/etc/zabbix/web-db-password").replace("$DB['SCHEMA']   = '';", "$DB['SCHEMA']   = ''");
        expectRejected(await checkFile(PHP_LINT, broken), /PHP Parse error: +syntax error/);
    });

    test("included by PHP as the web user: the DB settings, the password from its file, and no fixed server (native HA)", async () => {
        const probe = `define('IMAGE_FORMAT_PNG', 'PNG');
include $argv[1];
echo json_encode(['DB' => $DB, 'ZBX_SERVER' => isset($ZBX_SERVER), 'ZBX_SERVER_PORT' => isset($ZBX_SERVER_PORT),
    'ZBX_SERVER_NAME' => $ZBX_SERVER_NAME, 'IMAGE_FORMAT_DEFAULT' => $IMAGE_FORMAT_DEFAULT]);`;
        const result = await run(
            "php",
            ["-d", "display_errors=stderr", "-d", "error_reporting=-1", "-r", probe, confFile],
            { user: WEB_USER },
        );
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        const seen = JSON.parse(result.stdout);
        expect(seen.DB).toMatchObject({ ...renderedDb(), DATABASE: "zabbix", USER: "zabbix" });
        expect(seen).toMatchObject({
            ZBX_SERVER: false,
            ZBX_SERVER_PORT: false,
            ZBX_SERVER_NAME: "Zabbix tokyo",
            IMAGE_FORMAT_DEFAULT: "PNG",
        });
    });

    /** Loads a config file through the Zabbix frontend's own CConfigFile, as the web user. */
    const zabbixLoads = async (file: string) => {
        const loader = `$root = '${FRONTEND_ROOT}';
require $root.'/include/defines.inc.php';
require $root.'/include/func.inc.php';
require $root.'/include/classes/core/CAutoloader.php';
$autoloader = new CAutoloader();
$autoloader->addNamespace('', array_map(fn($d) => "$root/include/classes/$d", ['core', 'setup', 'helpers', 'html', 'db']));
$autoloader->register();
try {
    $config = (new CConfigFile($argv[1]))->load();
} catch (ConfigFileException $e) {
    fwrite(STDERR, 'rejected: '.$e->getMessage()."\\n");
    exit(1);
}
echo json_encode(['DB' => $config['DB'], 'ZBX_SERVER' => $config['ZBX_SERVER'], 'ZBX_SERVER_PORT' => $config['ZBX_SERVER_PORT']]);`;
        requireFile(`${FRONTEND_ROOT}/include/classes/core/CConfigFile.php`);
        // The loader accepts POSTGRESQL only when PHP can talk to PostgreSQL.
        await requirePhpExtension("pgsql");
        return run("php", ["-d", "display_errors=stderr", "-r", loader, file], { user: WEB_USER });
    };

    test("the Zabbix frontend's own loader (CConfigFile) accepts it and leaves the server unset", async () => {
        const result = await zabbixLoads(confFile);
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        const config = JSON.parse(result.stdout);
        expect(config.DB).toMatchObject(renderedDb());
        expect(config.ZBX_SERVER).toBeNull();
        expect(config.ZBX_SERVER_PORT).toBeNull();
    });

    test("the Zabbix frontend's loader rejects a file without the database name", async () => {
        const broken = await putFile(
            path.join(dir, "broken.conf.php"),
            confPhp(passwordFile).replace(/^\$DB\['DATABASE'\].*\n/m, ""),
        );
        const result = await zabbixLoads(broken);
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/rejected: DB database is not set/);
    });
});

describe("nginx and php-fpm running the rendered site and pool", () => {
    let port: number;
    let ca: string;

    const get = (urlPath: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
            // HTTPS only, the certificate verified against the test CA and the address.
            const req = https.get({ host: "127.0.0.1", port, path: urlPath, timeout: 5_000, ca }, res => {
                const chunks: Buffer[] = [];
                res.on("data", b => chunks.push(b));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
            });
            req.on("timeout", () => req.destroy(new Error(`no answer for ${urlPath}`)));
            req.on("error", reject);
        });

    beforeAll(async () => {
        ca = readFileSync(pki.client.caFile, "utf8");
        // A document root the web user can read, holding a page that reports what PHP runs with.
        const root = await scratch.dir("docroot", WEB_USER);
        await putFile(
            path.join(root, "index.php"),
            `<?php
echo json_encode(['script' => $_SERVER['SCRIPT_FILENAME'], 'user' => posix_getpwuid(posix_geteuid())['name'] ?? '?',
    'timezone' => date_default_timezone_get(), 'max_execution_time' => ini_get('max_execution_time'),
    'memory_limit' => ini_get('memory_limit'), 'post_max_size' => ini_get('post_max_size')]);
`,
        );
        await putFile(path.join(root, "include.php"), "<?php echo 'must not be served';\n");
        // The pool's socket dir must be reachable by nginx's workers (www-data).
        const socketDir = await scratch.dir("php-run", WEB_USER);
        const socket = path.join(socketDir, "zabbix.sock");
        const fpm = scratch.daemon("php-fpm", "php-fpm8.2", ["-F", "-y", await phpFpmConf(scratch, pool({ socket }))]);
        await waitFor("php-fpm to create its socket", () => existsSync(socket), { watch: [fpm] });

        port = await freePort();
        const dir = await nginxPrefix(scratch, site({ listenPort: port, root, phpSocket: socket }));
        const nginx = scratch.daemon("nginx", "nginx", [...nginxPrefixArgs(dir), "-g", "daemon off;"]);
        await waitFor("nginx to answer", async () => (await get("/")).status > 0, {
            watch: [nginx],
            detail: () => readFileSync(`${dir}/error.log`, "utf8"),
        });
    });

    test("a PHP page is served by the pool, as the web user, with the pool's PHP settings", async () => {
        const res = await get("/index.php");
        expect(res.status).toBe(200);
        const seen = JSON.parse(res.body);
        expect(seen).toMatchObject({
            user: WEB_USER,
            timezone: "Asia/Tokyo",
            max_execution_time: "300",
            memory_limit: "128M",
            post_max_size: "16M",
        });
        expect(seen.script).toMatch(/\/index\.php$/);
        expect((await get("/")).body).toBe(res.body); // index index.php
    });

    test("the frontend's internal paths are not served", async () => {
        expect((await get("/include.php")).status).toBe(404);
        expect((await get("/conf/zabbix.conf.php")).status).toBe(404);
        expect((await get("/.htaccess")).status).toBe(403);
    });
});
