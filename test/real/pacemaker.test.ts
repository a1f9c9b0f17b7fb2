/**
 * The Pacemaker CIB of the DRBD pair, checked by the programs that read it: xmllint (well-formed),
 * crm_verify (schema and cluster rules) and each agent's own metadata (the parameter names, which
 * crm_verify ignores); and the packages these checks need.
 */
import { readFileSync } from "fs";
import * as path from "path";
import { renderPacemakerCib } from "../../components/drbd/render";
import {
    CLUSTER_FILE_PACKAGES,
    CLUSTER_TOOL_PACKAGES,
    clusterTool,
    findAll,
    parameterProblems,
    parseXml,
    requireClusterFile,
    runTool,
} from "./cluster-support";
import { scratchSpace } from "./support";
import { cibInput, edited, tempFiles } from "./pacemaker-cases";

jest.setTimeout(60_000);

const scratch = scratchSpace();
const tempFile = tempFiles(scratch);

test("every package these checks need is listed in .ci/debian-packages", () => {
    const listed = readFileSync(path.resolve(__dirname, "../../.ci/debian-packages"), "utf8")
        .split("\n")
        .map(l => l.trim());
    const needed = new Set([...Object.values(CLUSTER_TOOL_PACKAGES), ...Object.values(CLUSTER_FILE_PACKAGES)]);
    expect([...needed].filter(p => !listed.includes(p))).toEqual([]);
    expect(() => clusterTool("no-such-cluster-tool")).toThrow(
        "no-such-cluster-tool not found: apt-get install --no-install-recommends",
    );
});

describe("the CIB as XML (xmllint)", () => {
    test("the rendered CIB is well-formed", async () => {
        const r = await runTool("xmllint", ["--noout", await tempFile("cib.xml", renderPacemakerCib(cibInput()))]);
        expect(r.code).toBe(0);
        expect(r.output).toBe("");
    });

    test("a truncated CIB is rejected (crm_verify alone lets libxml recover some of these)", async () => {
        const broken = edited(renderPacemakerCib(cibInput()), /<\/cib>\n$/, "");
        const r = await runTool("xmllint", ["--noout", await tempFile("cib.xml", broken)]);
        expect(r.code).not.toBe(0);
        expect(r.output).toMatch(/Premature end of data in tag cib/);
    });

    test("values are escaped, so a stray quote or ampersand cannot break the document", async () => {
        const cib = renderPacemakerCib(
            cibInput({
                fencing: {
                    agent: "fence_ipmilan",
                    devices: cibInput().fencing.devices.map(d => ({
                        ...d,
                        params: { ...d.params, username: `a"d<m>i&n'` },
                    })),
                },
            }),
        );
        const r = await runTool("xmllint", ["--noout", await tempFile("cib.xml", cib)]);
        expect(r.code).toBe(0);
        const user = findAll(parseXml(cib), "nvpair").find(n => n.attrs.id === "fence-n1-params-username");
        expect(user?.attrs.value).toBe(`a"d<m>i&n'`);
    });
});

describe("the CIB as Pacemaker reads it (crm_verify)", () => {
    const verify = async (cib: string) => runTool("crm_verify", ["--xml-file", await tempFile("cib.xml", cib), "-V"]);

    test("crm_verify accepts the rendered CIB without a word", async () => {
        const r = await verify(renderPacemakerCib(cibInput()));
        expect(r.code).toBe(0);
        expect(r.output).not.toMatch(/error|warning/i);
    });

    test("fencing is mandatory: the renderer refuses a node without a fence device, and crm_verify a CIB without any", async () => {
        expect(() => renderPacemakerCib(cibInput({ fencing: { agent: "fence_ipmilan", devices: [] } }))).toThrow(
            "fencing is mandatory: no fence device for n1, n2",
        );
        const withoutFencing = edited(
            edited(
                renderPacemakerCib(cibInput()),
                /\n {6}<primitive id="fence-[^"]*" class="stonith"[\s\S]*?\n {6}<\/primitive>/g,
                "",
            ),
            /\n {6}<rsc_location id="location-fence-[^\n]*/g,
            "",
        );
        const r = await verify(withoutFencing);
        expect(r.code).not.toBe(0);
        expect(r.output).toMatch(/no STONITH resources have been defined/);
    });

    test('crm_verify rejects role="Promoted" under a schema older than pacemaker-3.7', async () => {
        const r = await verify(
            edited(renderPacemakerCib(cibInput()), /validate-with="pacemaker-3\.7"/, 'validate-with="pacemaker-3.6"'),
        );
        expect(r.code).not.toBe(0);
        expect(r.output).toMatch(/did not pass schema validation/);
    });
});

describe("every primitive's parameters against its agent's metadata (crm_resource --show-metadata)", () => {
    beforeAll(() => {
        for (const file of [
            "/usr/lib/ocf/resource.d/linbit/drbd",
            "/usr/lib/ocf/resource.d/heartbeat/Filesystem",
            "/usr/lib/ocf/resource.d/heartbeat/IPaddr2",
            "/usr/sbin/fence_ipmilan",
        ]) {
            requireClusterFile(file);
        }
    });

    test("the rendered CIB names only agents that exist, and only parameters they declare (and every required one)", async () => {
        expect(await parameterProblems(renderPacemakerCib(cibInput()))).toEqual([]);
        const withNic = renderPacemakerCib(cibInput({ vip: { address: "10.0.0.10", cidrNetmask: 24, nic: "eth1" } }));
        expect(await parameterProblems(withNic)).toEqual([]);
    });

    test("a misspelled parameter is caught (crm_verify exits 0 on it)", async () => {
        const broken = edited(renderPacemakerCib(cibInput()), /name="cidr_netmask"/, 'name="cidr_netmsk"');
        expect(await parameterProblems(broken)).toEqual(["vip: ocf:heartbeat:IPaddr2 has no parameter cidr_netmsk"]);
    });

    test("an unknown agent, a deprecated parameter and a missing required one are caught", async () => {
        const cib = renderPacemakerCib(cibInput());
        expect(await parameterProblems(edited(cib, /type="IPaddr2"/, 'type="IPaddr3"'))).toEqual([
            expect.stringMatching(/^vip: unknown agent ocf:heartbeat:IPaddr3/),
        ]);
        expect(
            await parameterProblems(edited(cib, /name="username" value="admin"/g, 'name="login" value="admin"')),
        ).toEqual([
            "fence-n1: stonith:fence_ipmilan parameter login is deprecated",
            "fence-n2: stonith:fence_ipmilan parameter login is deprecated",
        ]);
        expect(await parameterProblems(edited(cib, /\n *<nvpair id="fs-params-fstype"[^\n]*/, ""))).toEqual([
            "fs: ocf:heartbeat:Filesystem requires fstype",
        ]);
    });

    test("no secret goes into the CIB: a clear-text password parameter is refused", () => {
        const devices = cibInput().fencing.devices.map(d => ({
            ...d,
            params: { ip: d.params.ip, password: "secret" },
        }));
        expect(() => renderPacemakerCib(cibInput({ fencing: { agent: "fence_ipmilan", devices } }))).toThrow(
            "parameter password would put a secret in the CIB",
        );
    });
});
