/**
 * The DRBD resource file, read by drbdadm with each of its two parsers (DRBD 9's, and the 8.4 one
 * drbd-utils uses when the kernel module is 8.4, as Debian 12's is), each with the file rendered for
 * it; then the pair's step scripts: shellcheck, and the decisions that guard the data (meta data,
 * first sync, mkfs) made by the real scripts under sh, with drbdadm and blkid stood in for.
 */
import { readFileSync } from "fs";
import { chmod, writeFile } from "fs/promises";
import * as path from "path";
import {
    DrbdResourceInput,
    DrbdVersion,
    renderCorosyncConf,
    renderDrbdResource,
    renderPacemakerCib,
} from "../../components/drbd/render";
import { cibLoadStep, clusterStep, drbdStep, initialSyncStep } from "../../components/drbd/steps";
import { script } from "../../components/shell";
import { DrbdSection, option, parseDrbdConf, requireClusterFile, runTool, section } from "./cluster-support";
import { cibInput } from "./pacemaker-cases";
import { RunResult, scratchSpace } from "./support";

jest.setTimeout(60_000);

const scratch = scratchSpace();

function drbdInput(version: DrbdVersion, over: Partial<DrbdResourceInput> = {}): DrbdResourceInput {
    return {
        resource: "zabbix",
        device: "/dev/drbd0",
        disk: "/dev/sdb1",
        metaDisk: "/dev/sdc1",
        port: 7789,
        nodes: [
            { name: "n1", address: "10.0.0.1" },
            { name: "n2", address: "10.0.0.2" },
        ],
        version,
        fencing: true,
        ...over,
    };
}

/** drbdadm with the parser of one DRBD version, whatever module this machine has (or lacks). */
const PARSER: Record<DrbdVersion, string> = { "9": "9.2.8", "8.4": "8.4.11" };

function drbdadm(version: DrbdVersion, args: readonly string[], node = "n1"): Promise<RunResult> {
    return runTool("drbdadm", args, { env: { DRBD_DRIVER_VERSION_OVERRIDE: PARSER[version], __DRBD_NODE__: node } });
}

async function tempFile(name: string, content: string, mode = 0o644): Promise<string> {
    const file = path.join(await scratch.dir("drbd"), name);
    await writeFile(file, content);
    await chmod(file, mode);
    return file;
}

function edited(text: string, pattern: RegExp, replacement: string): string {
    const out = text.replace(pattern, replacement);
    if (out === text) {
        throw new Error(`the edit ${pattern} matched nothing`);
    }
    return out;
}

/** `drbdadm sh-nop` then `dump <res>` as `node`; the parsed dump, or the failure with what drbdadm said. */
async function parsedBy(version: DrbdVersion, file: string, node = "n1"): Promise<DrbdSection> {
    for (const args of [
        ["-c", file, "sh-nop"],
        ["-c", file, "dump", "zabbix"],
    ]) {
        const r = await drbdadm(version, args, node);
        if (r.code !== 0 || /Parse error|error:/i.test(r.output)) {
            throw new Error(`${r.command} (parser ${version}) exited ${r.code}:\n${r.output}`);
        }
        if (args.includes("dump")) {
            return parseDrbdConf(r.stdout);
        }
    }
    throw new Error("unreachable");
}

/** The seed's advice, checked on what drbdadm understood: meta data on its own partition, on every node. */
function metaDiskProblems(resource: DrbdSection): string[] {
    return resource.sections
        .filter(s => s.keyword === "on")
        .flatMap(on => {
            const meta = option(on, "meta-disk")?.join(" ");
            const disk = option(on, "disk")?.join(" ");
            if (!meta || !meta.startsWith("/dev/")) {
                return [`on ${on.args[0]}: meta-disk ${meta ?? "(none)"} is not a dedicated partition`];
            }
            return meta === disk ? [`on ${on.args[0]}: meta-disk is the data disk ${disk}`] : [];
        });
}

describe.each(["9", "8.4"] as const)(
    "DRBD %s: the resource file as drbdadm reads it with that version's parser",
    version => {
        const handlers =
            version === "9"
                ? {
                      fence: "/usr/lib/drbd/crm-fence-peer.9.sh",
                      unfenceKey: "unfence-peer",
                      unfence: "/usr/lib/drbd/crm-unfence-peer.9.sh",
                  }
                : {
                      fence: "/usr/lib/drbd/crm-fence-peer.sh",
                      unfenceKey: "after-resync-target",
                      unfence: "/usr/lib/drbd/crm-unfence-peer.sh",
                  };

        test("both nodes' view: the dedicated meta-disk partition, the devices and addresses, fencing where this parser wants it", async () => {
            const file = await tempFile("zabbix.res", renderDrbdResource(drbdInput(version)));
            for (const [i, node] of (["n1", "n2"] as const).entries()) {
                const top = await parsedBy(version, file, node);
                const res = section(top, "resource", "zabbix")!;
                expect(res).toBeDefined();
                expect(metaDiskProblems(res)).toEqual([]);
                const on = section(res, "on", node)!;
                expect(option(on, "meta-disk")).toEqual(["/dev/sdc1"]);
                expect(option(on, "disk")).toEqual(["/dev/sdb1"]);
                expect(option(on, "device")).toEqual(["/dev/drbd0", "minor", "0"]);
                expect(option(on, "address")).toEqual(["ipv4", `10.0.0.${i + 1}:7789`]);
                expect(option(on, "node-id")).toEqual(version === "9" ? [String(i)] : undefined);
                expect(option(section(res, "net"), "protocol")).toEqual(["C"]);
                const fencingIn = version === "9" ? "net" : "disk";
                const otherSection = version === "9" ? "disk" : "net";
                expect(option(section(res, fencingIn), "fencing")).toEqual(["resource-and-stonith"]);
                expect(option(section(res, otherSection), "fencing")).toBeUndefined();
                const h = section(res, "handlers");
                expect(option(h, "fence-peer")).toEqual([handlers.fence]);
                expect(option(h, handlers.unfenceKey)).toEqual([handlers.unfence]);
            }
            requireClusterFile(handlers.fence);
            requireClusterFile(handlers.unfence);
        });

        test("as the host reads it: /etc/drbd.conf including drbd-utils' global_common.conf and the resource file", async () => {
            const global = readFileSync(requireClusterFile("/etc/drbd.d/global_common.conf"), "utf8");
            const dir = await scratch.dir("drbd-conf");
            await writeFile(path.join(dir, "global_common.conf"), global);
            await writeFile(path.join(dir, "zabbix.res"), renderDrbdResource(drbdInput(version)));
            const conf = path.join(dir, "drbd.conf");
            await writeFile(conf, `include "${dir}/global_common.conf";\ninclude "${dir}/*.res";\n`);
            const res = section(await parsedBy(version, conf), "resource", "zabbix");
            expect(option(section(res!, "on", "n1"), "meta-disk")).toEqual(["/dev/sdc1"]);
        });

        test("the other version's file is rejected: fencing is in the section this parser does not allow", async () => {
            const other: DrbdVersion = version === "9" ? "8.4" : "9";
            const file = await tempFile("zabbix.res", renderDrbdResource(drbdInput(other)));
            const r = await drbdadm(version, ["-c", file, "sh-nop"]);
            expect(r.code).not.toBe(0);
            expect(r.output).toMatch(/Parse error: .*\n\s*but got 'fencing'/);
        });

        test("a syntax error is rejected", async () => {
            const broken = edited(renderDrbdResource(drbdInput(version)), /disk \/dev\/sdb1;/, "disk /dev/sdb1");
            const r = await drbdadm(version, ["-c", await tempFile("zabbix.res", broken), "sh-nop"]);
            expect(r.code).not.toBe(0);
            expect(r.output).toMatch(/Parse error/);
        });

        test("meta-disk internal: refused by the renderer, and caught in what drbdadm understood of a hand-edited file", async () => {
            expect(() => renderDrbdResource(drbdInput(version, { metaDisk: "internal" }))).toThrow(
                "meta-disk internal is refused",
            );
            expect(() => renderDrbdResource(drbdInput(version, { metaDisk: "/dev/sdb1" }))).toThrow(
                "must be its own partition",
            );
            const internal = renderDrbdResource(drbdInput(version)).replace(
                /meta-disk \/dev\/sdc1;/g,
                "meta-disk internal;",
            );
            const res = section(await parsedBy(version, await tempFile("zabbix.res", internal)), "resource", "zabbix")!;
            expect(metaDiskProblems(res)).toEqual([
                "on n1: meta-disk internal is not a dedicated partition",
                "on n2: meta-disk internal is not a dedicated partition",
            ]);
        });
    },
);

// ---------------------------------------------------------------------------------------------
// The step scripts.

const files = { "8.4": renderDrbdResource(drbdInput("8.4")), "9": renderDrbdResource(drbdInput("9")) };
const cib = renderPacemakerCib(
    cibInput({
        nodes: drbdInput("9").nodes,
        fencing: {
            agent: "fence_ipmilan",
            devices: ["n1", "n2"].map(node => ({
                node,
                params: { ip: "192.0.2.1", password_script: "cat /etc/zabbix-ha/fence-password" },
            })),
        },
    }),
);
const STEPS: Record<string, string> = {
    drbd: script(drbdStep({ node: "n1", resource: "zabbix", pacemakerId: "drbd-zabbix", files })),
    cluster: script(
        "IFS= read -r COROSYNC_KEY\nIFS= read -r FENCE_PASSWORD",
        clusterStep({
            node: "n1",
            keyVariable: "COROSYNC_KEY",
            fencePasswordVariable: "FENCE_PASSWORD",
            keyFile: "/etc/corosync/authkey",
            corosyncConf: renderCorosyncConf({
                clusterName: "zabbix-east",
                nodes: [
                    { name: "n1", address: "10.0.0.1", nodeId: 1 },
                    { name: "n2", address: "10.0.0.2", nodeId: 2 },
                ],
            }),
            mountPoint: "/var/lib/postgresql",
            units: ["postgresql@15-main", "zabbix-server", "php8.2-fpm", "nginx"],
        }),
    ),
    "initial-sync": script(initialSyncStep({ resource: "zabbix", device: "/dev/drbd0", fsType: "ext4" })),
    cib: script(cibLoadStep({ cib })),
};

describe("the step scripts (shellcheck)", () => {
    test.each(Object.keys(STEPS))("the %s step is shellcheck-clean POSIX sh", async name => {
        const r = await runTool("shellcheck", ["-s", "sh", await tempFile(`${name}.sh`, STEPS[name])]);
        expect(`${r.command} exited ${r.code}\n${r.output}`).toMatch(/exited 0\n$/);
    });

    test("shellcheck rejects a script with an unquoted expansion", async () => {
        const r = await runTool("shellcheck", [
            "-s",
            "sh",
            await tempFile("bad.sh", `${STEPS["initial-sync"]}\nrm -f $zha_probe\n`),
        ]);
        expect(r.code).not.toBe(0);
        expect(r.output).toMatch(/SC2086/);
    });
});

/**
 * Runs a step under sh with stand-ins for the programs that need a DRBD kernel module, a cluster
 * or real disks. Each stand-in logs its command line; the environment sets what it answers.
 */
async function runWithStandIns(
    body: string,
    answers: Record<string, string>,
): Promise<{ result: RunResult; calls: string[] }> {
    const dir = await scratch.dir("standins");
    const log = path.join(dir, "calls.log");
    const standIn = async (name: string, behaviour: string) => {
        await writeFile(path.join(dir, name), `#!/bin/sh\necho "${name} $*" >> "$STANDIN_LOG"\n${behaviour}\n`);
        await chmod(path.join(dir, name), 0o755);
    };
    await standIn(
        "drbdadm",
        `case "$1" in
  dstate) echo "$STANDIN_DSTATE" ;;
  cstate) echo Connected ;;
  role) if [ -n "\${STANDIN_ROLE:-}" ]; then echo "$STANDIN_ROLE"; else echo "zabbix: No such resource" >&2; exit 10; fi ;;
  dump-md)
    case "$STANDIN_MD" in
      none) echo "No valid meta data found" >&2; exit 1 ;;
      broken) echo "open(/dev/sdc1) failed: Input/output error" >&2; exit 20 ;;
      *) echo 'version "v08";' ;;
    esac ;;
esac`,
    );
    await standIn("blkid", `exit "$STANDIN_BLKID"`);
    await standIn("mkfs.ext4", "");
    await standIn("uname", `echo "$STANDIN_UNAME"`);
    await standIn("modprobe", "");
    await standIn("systemctl", "exit 1");
    await standIn("crm_resource", "exit 1");
    await standIn("sleep", "");
    await writeFile(log, "");
    const file = await tempFile("step.sh", body);
    const result = await runTool("sh", [file], {
        env: {
            PATH: `${dir}:${process.env.PATH}`,
            STANDIN_LOG: log,
            STANDIN_UNAME: "n1",
            STANDIN_BLKID: "2",
            STANDIN_MD: "present",
            ...answers,
        },
    });
    return { result, calls: readFileSync(log, "utf8").split("\n").filter(Boolean) };
}

describe("the first-start step decides from DRBD's own state (sh, with drbdadm and blkid stood in for)", () => {
    const step = script(
        initialSyncStep({ resource: "zabbix", device: "/dev/drbd0", fsType: "ext4", connectTimeout: 2 }),
    );
    const writes = (calls: string[]) => calls.filter(c => /^(drbdadm (primary|secondary)|mkfs)/.test(c));

    test("both copies blank and no file system: this node becomes the source and the device gets ext4", async () => {
        const { result, calls } = await runWithStandIns(step, {
            STANDIN_DSTATE: "Inconsistent/Inconsistent",
            STANDIN_BLKID: "2",
        });
        expect(result.code).toBe(0);
        expect(writes(calls)).toEqual([
            "drbdadm primary --force zabbix",
            "mkfs.ext4 -q /dev/drbd0",
            "drbdadm secondary zabbix",
        ]);
    });

    test("both copies blank but the device already holds data: the first sync keeps it, no mkfs", async () => {
        const { result, calls } = await runWithStandIns(step, {
            STANDIN_DSTATE: "Inconsistent/Inconsistent",
            STANDIN_BLKID: "0",
        });
        expect(result.code).toBe(0);
        expect(writes(calls)).toEqual(["drbdadm primary --force zabbix", "drbdadm secondary zabbix"]);
        expect(result.output).toMatch(/already holds data/);
    });

    test.each(["Inconsistent/UpToDate", "UpToDate/UpToDate", "UpToDate/DUnknown", "Outdated/UpToDate"])(
        "%s: the peer (or this node) holds the data, so nothing is forced or formatted",
        async dstate => {
            const { result, calls } = await runWithStandIns(step, { STANDIN_DSTATE: dstate });
            expect(result.code).toBe(0);
            expect(writes(calls)).toEqual([]);
        },
    );

    test("blkid cannot probe the device: no mkfs, the step fails", async () => {
        const { result, calls } = await runWithStandIns(step, {
            STANDIN_DSTATE: "Inconsistent/Inconsistent",
            STANDIN_BLKID: "4",
        });
        expect(result.code).not.toBe(0);
        expect(calls.filter(c => c.startsWith("mkfs"))).toEqual([]);
        expect(result.output).toMatch(/not formatting/);
    });
});

describe("the DRBD step: the file for the module's version, meta data only where there is none (sh, stand-ins)", () => {
    async function drbdRun(kernel: string, answers: Record<string, string>) {
        const confDir = await scratch.dir("drbd.d");
        const procDrbd = await tempFile(
            "proc-drbd",
            `version: ${kernel} (api:1/proto:86-101)\nsrcversion: 0123456789\n`,
        );
        const step = script(
            drbdStep({ node: "n1", resource: "zabbix", pacemakerId: "drbd-zabbix", files, confDir, procDrbd }),
        );
        const run = await runWithStandIns(step, answers);
        const resFile = path.join(confDir, "zabbix.res");
        return { ...run, written: () => readFileSync(resFile, "utf8") };
    }

    test("an 8.4 module without meta data: the 8.4 file, create-md, up", async () => {
        const { result, calls, written } = await drbdRun("8.4.11", { STANDIN_MD: "none" });
        expect(result.code).toBe(0);
        expect(written()).toBe(files["8.4"]);
        expect(calls.filter(c => /^drbdadm (create-md|up|adjust)/.test(c))).toEqual([
            "drbdadm create-md zabbix",
            "drbdadm up zabbix",
        ]);
    });

    test("a 9 module with meta data already there: the 9 file, up, no create-md", async () => {
        const { result, calls, written } = await drbdRun("9.2.8", { STANDIN_MD: "present" });
        expect(result.code).toBe(0);
        expect(written()).toBe(files["9"]);
        expect(calls.filter(c => /^drbdadm (create-md|up|adjust)/.test(c))).toEqual(["drbdadm up zabbix"]);
    });

    test("already up: the changed file is applied with adjust, and meta data is not touched", async () => {
        const { result, calls } = await drbdRun("8.4.11", { STANDIN_ROLE: "Secondary/Secondary", STANDIN_MD: "none" });
        expect(result.code).toBe(0);
        expect(calls.filter(c => /^drbdadm (dump-md|create-md|up|adjust)/.test(c))).toEqual(["drbdadm adjust zabbix"]);
    });

    test("unreadable meta data is not overwritten: the step stops", async () => {
        const { result, calls } = await drbdRun("8.4.11", { STANDIN_MD: "broken" });
        expect(result.code).not.toBe(0);
        expect(calls.filter(c => /^drbdadm (create-md|up)/.test(c))).toEqual([]);
        expect(result.output).toMatch(/not creating any/);
    });

    test("a host whose name is not its node name, or an unknown module version, stops the step", async () => {
        const renamed = await drbdRun("8.4.11", { STANDIN_UNAME: "localhost" });
        expect(renamed.result.code).not.toBe(0);
        expect(renamed.result.output).toMatch(/calls itself localhost, but DRBD, corosync and Pacemaker know it as n1/);
        const unknown = await drbdRun("10.0.1", {});
        expect(unknown.result.code).not.toBe(0);
        expect(unknown.result.output).toMatch(/neither 8.4 nor 9/);
    });
});
