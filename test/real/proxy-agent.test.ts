/**
 * The data path's files, read by Debian 13's own Zabbix 7.0 programs in a Debian 13 root of their own
 * (support/debian13.ts: Debian's zabbix-proxy-sqlite3 conflicts with the server's package): each
 * zabbix_proxy.conf and zabbix_agent2.conf a plan renders, with its PSK file beside it as the step
 * leaves it, passes `zabbix_proxy -T` and `zabbix_agent2 -T` run as the services' user; a broken
 * copy fails, saying why (a check that cannot fail proves nothing).
 */
import { randomBytes } from "crypto";
import { zabbixLayout } from "../../components/platform";
import {
    AGENT_DATA_DIR,
    AGENT_SEQUENCE_FILE,
    DATA_PATH_ITEM_KEY,
    PROXY_DATA_DIR,
    PROXY_DB_FILE,
} from "../../components/proxy";
import { dataPathConfig } from "../support/dataPath";
import { PlannedFile, planConfig, plannedFiles } from "../support/plan";
import { RunResult, freePort, scratchSpace, waitFor } from "./support";
import { Chroot } from "./support/chroot";
import { DEBIAN13, PROXY_ROOT, ensureDebian13Root, openSession } from "./support/debian13";

jest.setTimeout(120_000);

const scratch = scratchSpace();
const LAYOUT = zabbixLayout(DEBIAN13, "distribution");

let host: Chroot;
let files: PlannedFile[];

beforeAll(async () => {
    const root = await ensureDebian13Root(PROXY_ROOT);
    host = await openSession(scratch, root, "proxy-agent");
    const plan = await planConfig(dataPathConfig());
    expect(plan.error).toBeUndefined();
    files = plannedFiles(plan);
}, 30 * 60_000);

/** The plan's files at `path` (one per host that runs the daemon). */
function filesAt(path: string): PlannedFile[] {
    const found = files.filter(f => f.path === path);
    expect(found.length).toBeGreaterThan(0);
    return found;
}

/**
 * Installs every file of `file`'s step as the step leaves its host: a PSK file (the step's secret
 * template) gets a real key of 32 random bytes in hex, as @pulumi/random makes it. `edit` breaks the
 * config file itself.
 */
async function installStep(file: PlannedFile, dataDir: string, edit?: (text: string) => string): Promise<void> {
    for (const f of files.filter(f => f.step === file.step)) {
        const content = f.template ? `${randomBytes(32).toString("hex")}\n` : f.content;
        await host.put(f.path, f === file && edit ? edit(content) : content, parseInt(f.mode, 8), f.owner);
    }
    await host.mkdir(dataDir, "zabbix", 0o700);
}

/** Runs `program -T -c path` as zabbix (the units' User=) with `file`'s step installed. */
async function testConfig(program: string, file: PlannedFile, dataDir: string, edit?: (text: string) => string) {
    await installStep(file, dataDir, edit);
    return host.run(program, ["-T", "-c", file.path], { user: "zabbix" });
}

const accepted = (r: RunResult) => r.code === 0 && /Validation successful/.test(r.output);

describe("zabbix_proxy.conf through Zabbix 7.0's zabbix_proxy -T", () => {
    const proxyFiles = () => filesAt(LAYOUT.proxy.config);

    test("one per proxy host, active, towards both server nodes as one cluster, PSK both ways", () => {
        expect(proxyFiles().map(f => f.host)).toEqual(["198.18.1.20", "198.18.2.20"]);
        for (const f of proxyFiles()) {
            expect(f.content).toMatch(/^ProxyMode=0$/m);
            expect(f.content).toMatch(/^Server=198\.18\.1\.10:10051;198\.18\.2\.10:10051$/m);
            expect(f.content).toMatch(/^DBName=\/var\/lib\/zabbix-proxy\/zabbix_proxy\.db$/m);
            expect(f.content).toMatch(/^TLSConnect=psk\nTLSAccept=psk$/m);
            expect(f.content).toMatch(new RegExp(`^ListenIP=${f.host.replace(/\./g, "\\.")}$`, "m"));
        }
    });

    test("each rendered file, with its PSK file, passes", async () => {
        for (const f of proxyFiles()) {
            const result = await testConfig("zabbix_proxy", f, PROXY_DATA_DIR);
            expect({ host: f.host, accepted: accepted(result), output: result.output }).toEqual({
                host: f.host,
                accepted: true,
                output: expect.any(String),
            });
        }
    });

    test("a memory buffer beyond Zabbix's 2 GiB ceiling fails, naming the parameter", async () => {
        const result = await testConfig("zabbix_proxy", proxyFiles()[0], PROXY_DATA_DIR, text =>
            text.replace(/^ProxyMemoryBufferSize=\d+M$/m, "ProxyMemoryBufferSize=4G"),
        );
        expect({ accepted: accepted(result), output: result.output }).toEqual({
            accepted: false,
            output: expect.stringMatching(/ProxyMemoryBufferSize/),
        });
    });

    test("an unknown parameter fails, naming it", async () => {
        const result = await testConfig(
            "zabbix_proxy",
            proxyFiles()[0],
            PROXY_DATA_DIR,
            text => `${text}NoSuchParameter=1\n`,
        );
        expect({ accepted: accepted(result), output: result.output }).toEqual({
            accepted: false,
            output: expect.stringMatching(/unknown parameter "NoSuchParameter"/),
        });
    });
});

describe("the rendered proxy, started as its unit starts it", () => {
    /**
     * Its step's files with a key in `psk`; the address it listens on moved to loopback on a free port
     * (this machine does not hold the plan's addresses). Started in the foreground as zabbix; stopped
     * once its log shows `until` (undefined: once it exits by itself).
     */
    async function startProxy(psk: string, until?: RegExp): Promise<{ log: string; exited: boolean }> {
        const file = filesAt(LAYOUT.proxy.config)[0];
        const port = await freePort();
        await installStep(file, PROXY_DATA_DIR, text =>
            text.replace(/^ListenIP=.*$/m, "ListenIP=127.0.0.1").replace(/^ListenPort=.*$/m, `ListenPort=${port}`),
        );
        const pskFile = files.find(f => f.step === file.step && f.template)!;
        await host.put(pskFile.path, psk, parseInt(pskFile.mode, 8), pskFile.owner);
        await host.put(LAYOUT.proxy.logFile, "", 0o644, "zabbix");
        const proxy = host.start("zabbix_proxy", "zabbix_proxy", ["-f", "-c", file.path], { user: "zabbix" });
        try {
            const log = await waitFor("the proxy's log", () => {
                const text = host.read(LAYOUT.proxy.logFile);
                return (until?.test(text) ?? false) || !proxy.running ? text : undefined;
            });
            return { log, exited: !proxy.running };
        } finally {
            await proxy.stop();
        }
    }

    test("with its 32-byte hex PSK it starts, and makes its SQLite database at DBName", async () => {
        const { log, exited } = await startProxy(`${randomBytes(32).toString("hex")}\n`, /proxy #0 started/);
        expect({ exited, started: /proxy #0 started/.test(log) }).toEqual({ exited: false, started: true });
        expect(host.read(PROXY_DB_FILE).length).toBeGreaterThan(0);
    });

    test("a PSK that is not hex stops it at start, naming the file", async () => {
        const { log, exited } = await startProxy("not-a-hex-key\n");
        expect({ exited, log }).toEqual({ exited: true, log: expect.stringMatching(/zabbix_proxy\.psk/) });
    });
});

describe("zabbix_agent2.conf through Zabbix 7.0's zabbix_agent2 -T", () => {
    const agentFiles = () => filesAt(LAYOUT.agent.config);

    test("one per monitored host, its site's group of proxies as one cluster, no passive listener", () => {
        expect(agentFiles().map(f => f.host)).toEqual(["198.18.1.30", "198.18.2.30"]);
        for (const f of agentFiles()) {
            expect(f.content).toMatch(/^ServerActive=198\.18\.1\.20:10051;198\.18\.2\.20:10051$/m);
            expect(f.content).toMatch(/^Server=$/m);
            expect(f.content).toMatch(/^EnablePersistentBuffer=1$/m);
        }
    });

    test("each rendered file, with its PSK file, passes", async () => {
        for (const f of agentFiles()) {
            const result = await testConfig("zabbix_agent2", f, AGENT_DATA_DIR);
            expect({ host: f.host, code: result.code, output: result.output }).toEqual({
                host: f.host,
                code: 0,
                output: expect.not.stringMatching(/error|cannot|invalid/i),
            });
        }
    });

    test("a persistent buffer period beyond agent 2's 365 days fails, naming the parameter", async () => {
        const result = await testConfig("zabbix_agent2", agentFiles()[0], AGENT_DATA_DIR, text =>
            text.replace(/^PersistentBufferPeriod=\d+s$/m, "PersistentBufferPeriod=400d"),
        );
        expect({ refused: result.code !== 0, output: result.output }).toEqual({
            refused: true,
            output: expect.stringMatching(/PersistentBufferPeriod/),
        });
    });

    test("the data path check's sequence counts up by one per collection, and survives a restart of the count", async () => {
        const file = agentFiles()[0];
        await installStep(file, AGENT_DATA_DIR);
        await host.run("rm", ["-f", AGENT_SEQUENCE_FILE]);
        const collect = async () => {
            const r = await host.run("zabbix_agent2", ["-c", file.path, "-t", DATA_PATH_ITEM_KEY], { user: "zabbix" });
            const value = /\[s\|(\d+)\]/.exec(r.output)?.[1];
            return { code: r.code, value: value === undefined ? r.output : Number(value) };
        };
        const values = [await collect(), await collect(), await collect()];
        expect(values).toEqual([1, 2, 3].map(value => ({ code: 0, value })));
        // The number lives in the file, not the process: a new agent process goes on from it.
        expect(host.read(AGENT_SEQUENCE_FILE).trim()).toBe("3");
        // A file that holds no number fails the check rather than start the count again at 1.
        await host.run("sh", ["-c", `: >${AGENT_SEQUENCE_FILE}`]);
        const emptied = await collect();
        expect({ value: emptied.value, file: host.read(AGENT_SEQUENCE_FILE) }).toEqual({
            value: expect.stringMatching(/ZBX_NOTSUPPORTED|holds no sequence number/),
            file: "",
        });
    });
});
