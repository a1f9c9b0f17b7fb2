/**
 * zabbix_agent2.conf as Debian 12's own agent 2 (Zabbix 6.0) reads it: on 6.0 proxies are refused
 * (no proxy groups), so its agents report to the server cluster's nodes. 6.0's agent 2 has no -T:
 * `-t agent.ping` loads the whole file first and refuses it when a parameter is wrong.
 */
import * as path from "path";
import { zabbixLayout, platformFor } from "../../components/platform";
import { PlannedFile, planConfig, plannedFiles, twoSiteConfig } from "../support/plan";
import { putFile, run, scratchSpace } from "./support";

const scratch = scratchSpace();
const LAYOUT = zabbixLayout(platformFor("debian12"), "distribution");

/** twoSiteConfig (Debian 12, Debian's 6.0) with a monitored host per site. */
function agentsOn6(): Record<string, any> {
    const raw = twoSiteConfig();
    raw.sites[0].hosts.push({ name: "east-app", address: "198.18.1.30", roles: ["agent"] });
    raw.sites[1].hosts.push({ name: "west-app", address: "198.18.2.30", roles: ["agent"] });
    return raw;
}

let files: PlannedFile[];

beforeAll(async () => {
    const plan = await planConfig(agentsOn6());
    expect(plan.error).toBeUndefined();
    files = plannedFiles(plan).filter(f => f.path === LAYOUT.agent.config);
});

/** Runs Debian 12's zabbix_agent2 on a copy of the file: it loads the file, then tests agent.ping. */
async function loadWithAgent2(text: string) {
    const file = path.join(await scratch.dir("agent2"), "zabbix_agent2.conf");
    await putFile(file, text);
    return run("zabbix_agent2", ["-c", file, "-t", "agent.ping"]);
}

test("each monitored host's file names both server nodes as one cluster and loads", async () => {
    expect(files.map(f => f.host)).toEqual(["198.18.1.30", "198.18.2.30"]);
    for (const f of files) {
        expect(f.content).toMatch(/^ServerActive=198\.18\.1\.10:10051;198\.18\.2\.10:10051$/m);
        const result = await loadWithAgent2(f.content);
        expect({ host: f.host, code: result.code, output: result.output }).toEqual({
            host: f.host,
            code: 0,
            output: expect.stringMatching(/^agent\.ping\s+\[s\|1\]$/m),
        });
    }
});

test("7.0's RefreshActiveChecks of 5 s is refused by 6.0's agent 2, naming it: the file is rendered per series", async () => {
    const result = await loadWithAgent2(
        files[0].content.replace(/^RefreshActiveChecks=\d+$/m, "RefreshActiveChecks=5"),
    );
    expect({ code: result.code, output: result.output }).toEqual({
        code: 1,
        output: expect.stringMatching(/invalid parameter RefreshActiveChecks at line \d+: value out of range/),
    });
});
