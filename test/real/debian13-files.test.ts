/**
 * Every file the Debian 13 + Zabbix 7.0 plans render for the programs below, checked by Debian 13's
 * own programs in a Debian 13 root (support/debian13.ts): zabbix_server.conf by Zabbix 7.0's
 * `zabbix_server -T`, zabbix.conf.php by PHP 8.4, the pool by php-fpm 8.4, the site by nginx 1.26,
 * haproxy.cfg by HAProxy 3.0. Each file is checked where its host keeps it, beside the other files
 * of its step (a password include, the primary check), under the distribution's own main configs.
 * Each program also rejects a broken copy, saying why: a check that cannot fail proves nothing.
 */
import { HAPROXY_CONFIG } from "../../components/loadbalancer/render";
import { NGINX_DEFAULT_SITE, zabbixLayout } from "../../components/platform";
import { frontendFiles } from "../../components/zabbix/steps";
import { RunResult, scratchSpace, testPki } from "./support";
import { Chroot } from "./support/chroot";
import { DEBIAN13, ensureDebian13Root, openSession } from "./support/debian13";
import { Debian13File, debian13Environments, debian13Files, withStandInSecrets } from "./debian13-plans";
import { installPki } from "./debian13-sites";

jest.setTimeout(120_000);

const scratch = scratchSpace();
const LAYOUT = zabbixLayout(DEBIAN13, "distribution");
const FRONTEND = frontendFiles(DEBIAN13, LAYOUT);

let host: Chroot;
let files: Debian13File[];

beforeAll(async () => {
    const root = await ensureDebian13Root();
    host = await openSession(scratch, root, "files");
    // As the TLS step leaves a load balancer that is also a frontend: HAProxy (its UI and its Patroni
    // check) and nginx read these, each file of one test PKI.
    await installPki(host, await testPki(scratch), ["lb", "frontend"]);
    files = await debian13Files();
}, 30 * 60_000);

/** The plans' files at `path`, one of each distinct text (the same file on many hosts is checked once). */
function distinct(path: string): Debian13File[] {
    const seen = new Map<string, Debian13File>();
    files.filter(f => f.path === path).forEach(f => seen.set(f.content, seen.get(f.content) ?? f));
    return [...seen.values()];
}

/** Installs every file of `file`'s step on the session, as the step leaves its host (secrets stood in for). */
async function installStep(file: Debian13File): Promise<void> {
    for (const f of files.filter(f => f.environment === file.environment && f.step === file.step)) {
        await host.put(f.path, withStandInSecrets(f), parseInt(f.mode, 8), f.owner);
    }
}

/** How a program checks a file, and the output it gives only for a file it accepts. */
interface Check {
    readonly program: string;
    readonly args: readonly string[];
    /** Run as this user of the root, as the service runs. */
    readonly user?: string;
    readonly accepted: (result: RunResult) => boolean;
    /** What must change for the check to run on this machine, whose network the sessions share. */
    readonly onThisMachine?: (text: string) => string;
}

/** Runs `check` with `file`'s step installed; the result says whether it accepted. */
async function checkInstalled(check: Check, file: Debian13File, edit?: (text: string) => string) {
    await installStep(file);
    if (edit) {
        await host.put(file.path, edit(file.content), parseInt(file.mode, 8), file.owner);
    }
    const result = await host.run(check.program, check.args, { user: check.user });
    return { ...result, accepted: check.accepted(result) };
}

/** Each distinct file at `path` checked; the ones refused, with what the program printed. */
async function refusals(check: Check, path: string): Promise<{ file: string; output: string }[]> {
    const found = distinct(path);
    expect(found.length).toBeGreaterThan(0);
    const refused: { file: string; output: string }[] = [];
    for (const file of found) {
        const result = await checkInstalled(check, file, check.onThisMachine);
        if (!result.accepted) {
            refused.push({
                file: `${file.environment} ${file.step} ${file.path}`,
                output: `exit ${result.code}: ${result.output}`,
            });
        }
    }
    return refused;
}

/** The program refuses `file` once `edit` broke it, with output matching `reason`. */
async function expectRefused(check: Check, file: Debian13File, edit: (text: string) => string, reason: RegExp) {
    const result = await checkInstalled(check, file, edit);
    expect({ accepted: result.accepted, output: result.output }).toEqual({
        accepted: false,
        output: expect.stringMatching(reason),
    });
}

const quiet = (result: RunResult, problems: RegExp) => result.code === 0 && !problems.test(result.output);

describe("zabbix_server.conf through Zabbix 7.0's zabbix_server -T", () => {
    // As the unit runs it (User=zabbix); the file is root:zabbix 0640, as the step leaves it.
    const TEST_CONFIG: Check = {
        program: "zabbix_server",
        args: ["-T", "-c", LAYOUT.serverConfig],
        user: "zabbix",
        accepted: r => r.code === 0 && r.stderr === "" && /^Validation successful$/m.test(r.stdout),
    };
    const first = () => distinct(LAYOUT.serverConfig)[0];

    test("every environment renders it, with global scripts off as 7.0 on Debian 13 ships them", () => {
        for (const { name } of debian13Environments()) {
            const own = files.filter(f => f.environment === name && f.path === LAYOUT.serverConfig);
            expect({ name, files: own.length > 0 }).toEqual({ name, files: true });
            own.forEach(f => expect(f.content).toMatch(/^EnableGlobalScripts=0$/m));
        }
    });

    test("each rendered file, with its password include, passes", async () => {
        expect(await refusals(TEST_CONFIG, LAYOUT.serverConfig)).toEqual([]);
    });

    test("an unknown parameter fails, naming it, the file and the line", async () => {
        await expectRefused(
            TEST_CONFIG,
            first(),
            text => `${text}NoSuchParameter=1\n`,
            /unknown parameter "NoSuchParameter" in config file "\/etc\/zabbix\/zabbix_server\.conf", line \d+/,
        );
    });

    test("a wrong value fails, naming the parameter", async () => {
        await expectRefused(
            TEST_CONFIG,
            first(),
            text => text.replace(/^StartPollers=\d+$/m, "StartPollers=many"),
            /wrong value of "StartPollers" in config file "\/etc\/zabbix\/zabbix_server\.conf"/,
        );
    });

    test("the password include is read: without it the file fails", async () => {
        const file = first();
        const include = /^Include=(.+)$/m.exec(file.content)![1];
        await installStep(file);
        await host.run("rm", ["-f", include]);
        const result = await host.run(TEST_CONFIG.program, TEST_CONFIG.args, { user: TEST_CONFIG.user });
        expect(result.code).not.toBe(0);
        expect(result.output).toContain(`${include}: [2] No such file or directory`);
    });
});

/** A file the plans render, the program that reads it, and a broken copy it must refuse, saying why. */
interface FileCase {
    readonly what: string;
    readonly path: string;
    readonly check: Check;
    readonly broken: (text: string) => string;
    readonly reason: RegExp;
}

const FILE_CASES: readonly FileCase[] = [
    {
        what: "zabbix.conf.php",
        path: LAYOUT.frontendConfig,
        check: {
            program: "php8.4",
            args: ["-l", LAYOUT.frontendConfig],
            user: DEBIAN13.phpFpm.webUser,
            accepted: r => r.code === 0 && /^No syntax errors detected in /m.test(r.stdout),
        },
        broken: text => text.replace("$DB['SCHEMA']   = '';", "$DB['SCHEMA'] = ''"),
        reason: /PHP Parse error: +syntax error/,
    },
    {
        what: "the php-fpm pool",
        path: FRONTEND.pool,
        // Debian's own php-fpm.conf, which includes every pool of the pool dir, as the unit starts it.
        check: {
            program: `php-fpm${/php(\d\.\d)-fpm/.exec(DEBIAN13.phpFpm.service)![1]}`,
            args: ["-t", "--fpm-config", `${DEBIAN13.phpFpm.poolDir.replace(/\/pool\.d$/, "")}/php-fpm.conf`],
            accepted: r => quiet(r, /WARNING|ERROR/) && /configuration file .* test is successful/.test(r.output),
        },
        broken: text => `${text}pm.max_kids = 5\n`,
        reason: /unknown entry 'pm\.max_kids'/,
    },
    {
        what: "the nginx site",
        path: FRONTEND.site,
        // Debian's own nginx.conf, which includes the site dir (the default site is gone, see beforeAll).
        check: {
            program: "nginx",
            args: ["-t"],
            accepted: r =>
                quiet(r, /\[(warn|emerg|alert)\]/) && /configuration file .* test is successful/.test(r.output),
            // nginx -t binds each listen address: the plans' hosts' addresses are not this machine's.
            onThisMachine: text => text.replace(/^( {4}listen )[\d.]+:/gm, "$1127.0.0.1:"),
        },
        broken: text => text.replace(/}\n$/, ""),
        reason: /unexpected end of file, expecting "}"/,
    },
    {
        what: "haproxy.cfg",
        path: HAPROXY_CONFIG,
        check: {
            program: "haproxy",
            // -V: HAProxy 3.0 says that it found the file valid only when verbose.
            args: ["-c", "-V", "-f", HAPROXY_CONFIG],
            accepted: r => quiet(r, /\[(ALERT|WARNING)\]/) && /Configuration file is valid/.test(r.output),
        },
        broken: text => text.replace(/^defaults\n/m, "defaults\n    no-such-keyword on\n"),
        reason: /unknown keyword 'no-such-keyword'/,
    },
];

describe.each(FILE_CASES)("$what through Debian 13's $check.program", c => {
    beforeAll(async () => {
        // As the frontend step leaves a host: Debian's default site would take the UI's port.
        await host.run("rm", ["-f", NGINX_DEFAULT_SITE]);
    });

    test(`${c.check.program} ${c.check.args.join(" ")} accepts each rendered one`, async () => {
        expect(await refusals(c.check, c.path)).toEqual([]);
    });

    test(`${c.check.program} refuses a broken one, saying why`, async () => {
        await expectRefused(c.check, distinct(c.path)[0], c.broken, c.reason);
    });
});

test("the plans hold both of the load balancer's DB checks: the primary check script, and Patroni's REST API", () => {
    const texts = distinct(HAPROXY_CONFIG).map(f => f.content);
    expect(texts.some(t => /^\s+option external-check$/m.test(t))).toBe(true);
    expect(texts.some(t => /^\s+option httpchk GET \/primary$/m.test(t))).toBe(true);
});
