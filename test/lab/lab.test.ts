/**
 * The real lab: Debian 13 hosts with systemd and sshd in L3 sites on this machine, onto which the
 * lab's stack (lab/Pulumi.lab.yaml, Debian's Zabbix 7.0) is deployed by replaying the captured plan over SSH and SQL,
 * then verified (UI and API through every load balancer, one active HA node, streaming replicas,
 * an idempotent second replay, the same config planning nothing, proxies and agents' values flowing), then changed as `pulumi up` would
 * change it: `apply` of the same config plans nothing, `apply` of a longer failover delay updates the
 * step that stores it in the database and each node's takeover watcher, nothing else; then the active
 * server's crash, its graceful stop and a proxy's crash are drilled with agents counting through the
 * proxy group. `down` runs in afterAll whatever happened.
 *
 * Then the cloud lab (lab/Pulumi.lab-cloud.yaml, pattern 4): the lab plays the provider of the
 * managed PostgreSQL on a host the stack never logs into; every Zabbix session must reach it over TLS.
 *
 * Then the Debian 12 lab (lab/Pulumi.lab-debian12.yaml, Debian's Zabbix 6.0, its witness on Debian 13)
 * comes up and the active server's crash is drilled, so 6.0 stays proven.
 *
 * Then the Patroni lab (lab/Pulumi.lab-patroni.yaml, Debian 13, sync replication) comes up, a planned
 * switchover runs with writes going on (never two writers, no acknowledged commit lost), and five failure
 * drills run against it (tools/lab/drills): the active Zabbix server's crash, its graceful stop, the
 * cut of its site, the cut of the DB primary's site and the DB primary's crash must each recover by
 * themselves, never show two writers or two active nodes, and keep every configuration change
 * committed before and during the fault. Timings are the drills' figures, not asserted here.
 *
 * Needs root, systemd-nspawn and debootstrap; without them this test fails and says what to install.
 * It replaces a lab that `npm run lab -- up` left running, and takes it down at the end. The four
 * describe blocks run one after the other (Jest runs a file's blocks in order), never side by side.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { AGENT_BUFFER_SEND_SECONDS, DATA_SENDER_FREQUENCY_SECONDS } from "../../components/proxy";
import { ChangeDrillResult, DrillResult, drill, promisedLost } from "../../tools/lab/drills";
import { UpResult, down, up } from "../../tools/lab/lab";
import { ApplyLabResult, applyLab } from "../../tools/lab/replay";
import { cachePaths, missingRequirements, sshRun } from "../../tools/lab/machines";

// Cold (no cache) takes a few minutes on 2 cores; leave room for a busy machine.
jest.setTimeout(30 * 60_000);

const log = (line: string) => process.stdout.write(`[lab] ${line}\n`);
const missing = missingRequirements();

/**
 * Brings a lab up before a block's tests (a config file, or the default one), then runs `exercise`
 * against it, and always takes it down after them.
 */
function labFor<T = undefined>(
    configFile?: string,
    exercise?: () => Promise<T>,
): { result: () => UpResult; exercised: () => T } {
    let result: UpResult | undefined;
    let exercised: T | undefined;
    let failure: unknown;
    beforeAll(async () => {
        if (missing.length > 0) {
            return;
        }
        try {
            result = await up({ configFile: configFile && path.join(__dirname, "..", "..", "lab", configFile), log });
            exercised = await exercise?.();
        } catch (err) {
            failure = err;
        }
    });
    afterAll(async () => {
        if (missing.length === 0) {
            await down({ log });
        }
    });
    const settled = () => {
        if (missing.length > 0) {
            throw new Error(`the lab cannot run here:\n  - ${missing.join("\n  - ")}`);
        }
        if (failure) {
            throw failure instanceof Error ? failure : new Error(String(failure));
        }
    };
    return {
        result: () => (settled(), result!),
        exercised: () => (settled(), exercised!),
    };
}

/** The checks `up` ran that failed, as "name: detail". */
const failedChecks = (result: UpResult) => result.checks.filter(c => !c.ok).map(c => `${c.name}: ${c.detail}`);

/** The lab's own configuration. */
const LAB_CONFIG = path.join(__dirname, "..", "..", "lab", "Pulumi.lab.yaml");

/** The lab config with another failover delay, in a file of its own (as `pulumi up --config-file`). */
function delayConfig(delay: string): string {
    const text = readFileSync(LAB_CONFIG, "utf8").replace(/failoverDelay: \S+/, `failoverDelay: ${delay}`);
    const file = path.join(mkdtempSync(path.join(tmpdir(), "zha-lab-")), "Pulumi.lab-delay.yaml");
    writeFileSync(file, text);
    return file;
}

/** ha_failover_delay as the primary (tyo-zbx1, the lab config's db.primarySite) stores it. */
async function storedFailoverDelay(): Promise<string> {
    const out = await sshRun({
        host: "198.18.1.10",
        port: 22,
        user: "root",
        key: cachePaths().sshKey,
        command: "cd /tmp && runuser -u postgres -- psql -X -t -A -d zabbix -c 'select ha_failover_delay from config'",
    });
    return out.stdout.trim();
}

/** The manual lab's drills: the failover this lab exists for, a reboot after a planned switchover, and a re-keyed host. */
const MANUAL_DRILLED = ["manual-failover-site-lost", "stood-down-reboot", "host-key-changed"];
/**
 * Its drills through the data path: the active server's crash and the busiest proxy's, where the model
 * promises no value (a killed daemon drops what it took in and had not passed on), and the active
 * node's graceful stop, where it promises every one.
 */
const DATA_PATH_DRILLED = ["server-crash", "server-switchover", "proxy-crash"];

/** The lab's data path check interval, in seconds (each agent host produces one value per interval). */
const CHECK_INTERVAL_SECONDS = Number(/dataPathCheckInterval: (\d+)s/.exec(readFileSync(LAB_CONFIG, "utf8"))?.[1]);

/**
 * What a killed server or proxy may drop per monitored host: what it had taken in and not yet passed
 * on, which is at most one agent batch (BufferSend) and one proxy send (DataSenderFrequency).
 */
const DROPPED_PER_HOST = Math.ceil(
    (AGENT_BUFFER_SEND_SECONDS + DATA_SENDER_FREQUENCY_SECONDS) / CHECK_INTERVAL_SECONDS,
);

describe("the multi-site lab", () => {
    const lab = labFor(undefined, async () => {
        const same = await applyLab({ log });
        const longer = await applyLab({ configFile: delayConfig("20s"), log });
        const delay = await storedFailoverDelay();
        // Back to the lab's own configuration before the drills, which apply changes of their own
        // (without a file, apply takes the one applied last).
        await applyLab({ configFile: LAB_CONFIG, log });
        const drills = await drill({ only: [...DATA_PATH_DRILLED, ...MANUAL_DRILLED], log });
        return { same, longer, delay, drills };
    });
    const changeDrill = (name: string): ChangeDrillResult => {
        const result = lab.exercised().drills.find(r => r.name === name);
        expect(result).toBeDefined();
        return result as ChangeDrillResult;
    };

    it("can run on this machine", () => {
        if (missing.length > 0) {
            throw new Error(`the lab cannot run here:\n  - ${missing.join("\n  - ")}`);
        }
    });

    it("deploys the stack and passes every check, on Debian 13 with its own Zabbix 7.0", () => {
        const result = lab.result();
        expect(failedChecks(result)).toEqual([]);
        expect(result.checks.find(c => c.name === "operating systems")?.detail).toMatch(
            /tyo-zbx1 Debian GNU\/Linux 13 \(trixie\), Zabbix 7\.0\.\d+/,
        );
        expect(result.checks.map(c => c.name)).toEqual(
            expect.arrayContaining(["HA nodes", "replication", "data path", "idempotence", "no changes planned"]),
        );
    });

    it("applies changes as pulumi up would: the same config plans nothing, a longer failover delay updates the delay's step and the nodes' watchers", () => {
        const { same, longer, delay } = lab.exercised();
        const changed = (r: ApplyLabResult) => ({
            create: r.summary.create,
            update: r.summary.update,
            replace: r.summary.replace,
            delete: r.summary.delete,
        });
        expect(changed(same)).toEqual({ create: [], update: [], replace: [], delete: [] });
        // The cluster component's declared inputs change with it; the steps that run are the delay's and
        // each node's (its takeover watcher judges the other nodes' heartbeats by the delay). The proxies
        // declare the server outage their buffers are sized for, which the delay lengthens; their
        // rendered buffers, rounded up, stay the same, so no proxy step runs.
        expect(changed(longer)).toEqual({
            create: [],
            update: [
                "zabbix-server",
                "zabbix-server-failover-delay",
                "zabbix-server-osa-zbx1",
                "zabbix-server-tyo-zbx1",
                "osa-prx1-proxy",
                "tyo-prx1-proxy",
            ],
            replace: [],
            delete: [],
        });
        expect(delay).toBe("20s");
    });

    it("stays within the memory budget of 3 GiB", () => {
        expect(lab.result().memoryMiB).toBeLessThan(3 * 1024);
    });

    it.each(DATA_PATH_DRILLED)(
        "%s: recovers by itself with never two active nodes; through the proxies, none lost where the model promises none, and no more than a killed daemon held where it does not",
        name => {
            const result = lab.exercised().drills.find(r => r.name === name) as DrillResult | undefined;
            expect(result).toBeDefined();
            const agents = result!.sources.agents;
            const hosts = Object.keys(agents?.hosts ?? {}).length;
            expect(Number.isInteger(CHECK_INTERVAL_SECONDS)).toBe(true);
            expect({
                name,
                recovered: result!.recoverySeconds !== null,
                splitBrain: result!.splitBrain,
                violations: result!.splitBrainDetail.violations,
                agentsCounted: (agents?.valuesProduced ?? 0) > 0,
                promisedLost: promisedLost(result!),
                withinWhatADaemonHeld: (agents?.valuesLost ?? 0) <= hosts * DROPPED_PER_HOST,
            }).toEqual({
                name,
                recovered: true,
                splitBrain: false,
                violations: [],
                agentsCounted: true,
                promisedLost: 0,
                withinWhatADaemonHeld: true,
            });
        },
    );

    it.each(MANUAL_DRILLED)(
        "%s: never two writers through the balancers, nothing lost that was promised, every check of the drill holds",
        name => {
            const result = changeDrill(name);
            expect({
                name,
                splitBrain: result.splitBrain,
                commitsLost: result.commitsLost,
                failed: result.checks.filter(c => !c.ok).map(c => `${c.name}: ${c.detail}`),
            }).toEqual({ name, splitBrain: false, commitsLost: 0, failed: [] });
        },
    );
});

describe("the cloud lab (pattern 4, a managed PostgreSQL played by the lab)", () => {
    const lab = labFor("Pulumi.lab-cloud.yaml");

    it("deploys through the PostgreSQL provider only, and every Zabbix session reaches the endpoint over TLS", () => {
        const result = lab.result();
        expect(failedChecks(result)).toEqual([]);
        expect(result.checks.map(c => c.name)).toEqual(
            expect.arrayContaining(["HA nodes", "managed database", "idempotence"]),
        );
    });
});

describe("the Debian 12 lab (Debian's Zabbix 6.0; its witness on Debian 13)", () => {
    // The drill native HA exists for, on 6.0 too.
    const DRILLED = ["server-crash"];
    const lab = labFor("Pulumi.lab-debian12.yaml", () => drill({ only: DRILLED, log }));

    it("deploys 6.0 on Debian 12 beside a Debian 13 host and passes every check", () => {
        const result = lab.result();
        expect(failedChecks(result)).toEqual([]);
        const systems = result.checks.find(c => c.name === "operating systems");
        expect(systems?.detail).toMatch(/tyo-zbx1 Debian GNU\/Linux 12 \(bookworm\), Zabbix 6\.0\.\d+/);
        expect(systems?.detail).toMatch(/wit-1 Debian GNU\/Linux 13 \(trixie\), no Zabbix/);
    });

    it.each(DRILLED)("%s: monitoring comes back by itself, with never two active nodes", name => {
        const result = lab.exercised().find(r => r.name === name) as DrillResult | undefined;
        expect(result).toBeDefined();
        expect({
            name,
            recovered: result!.recoverySeconds !== null,
            splitBrain: result!.splitBrain,
            violations: result!.splitBrainDetail.violations,
        }).toEqual({ name, recovered: true, splitBrain: false, violations: [] });
    });
});

describe("failure drills on the Patroni lab", () => {
    // The two the issue names; the graceful switchover (the takeover watcher on real systemd); the cut
    // of the active node's site (a demote that outlasted the cut once handed the primary back); the cut
    // of the primary's site (Patroni before 3.0.3 took the primary back when it healed, losing commits).
    const DRILLED = [
        "server-crash",
        "server-switchover",
        "site-isolation:active",
        "site-isolation:db",
        "db-primary-crash",
    ];
    // db.primarySite moved with writes running: Patroni hands the lead over (a former leader that
    // still led once waited for ever to become a replica, found by this drill).
    const CHANGED = ["planned-switchover"];
    const lab = labFor("Pulumi.lab-patroni.yaml", () => drill({ only: [...DRILLED, ...CHANGED], log }));
    const resultOf = (name: string): DrillResult => {
        const result = lab.exercised().find(r => r.name === name);
        expect(result).toBeDefined();
        return result as DrillResult;
    };

    it.each(DRILLED)("%s: monitoring comes back by itself, with never two writers or two active nodes", name => {
        const result = resultOf(name);
        expect({
            name,
            recovered: result.recoverySeconds !== null,
            splitBrain: result.splitBrain,
            violations: result.splitBrainDetail.violations,
        }).toEqual({ name, recovered: true, splitBrain: false, violations: [] });
    });

    it.each(DRILLED)(
        "%s: with sync replication, configuration committed before and during the fault is all there afterwards",
        name => {
            const result = resultOf(name);
            expect({
                name,
                configLost: result.configLost,
                notes: result.notes.filter(n => /configuration/.test(n)),
            }).toEqual({ name, configLost: 0, notes: [] });
        },
    );

    it.each(CHANGED)(
        "%s: never two writers through the balancers, every acknowledged commit kept, every check of the drill holds",
        name => {
            const result = lab.exercised().find(r => r.name === name) as ChangeDrillResult | undefined;
            expect(result).toBeDefined();
            expect({
                name,
                splitBrain: result!.splitBrain,
                commitsLost: result!.commitsLost,
                failed: result!.checks.filter(c => !c.ok).map(c => `${c.name}: ${c.detail}`),
            }).toEqual({ name, splitBrain: false, commitsLost: 0, failed: [] });
        },
    );
});
