/**
 * Pattern 2's configuration sync units: the rendered service and timer, read by systemd-analyze
 * verify, which must accept them without a word and report a misspelt key.
 */
import * as path from "path";
import { renderConfigSyncScript, renderConfigSyncService, renderConfigSyncTimer } from "../../components/zabbix/render";
import { Scratch, putFile, run } from "./support";

jest.setTimeout(150_000);

describe("config sync systemd units", () => {
    const units = { intervalMinutes: 10 };

    /** Writes the units (and an executable for ExecStart=) into a temp dir and verifies them. */
    async function verify(service: (scriptPath: string) => string, timer: string) {
        const s = new Scratch();
        try {
            const dir = await s.dir("units");
            const scriptPath = await putFile(
                path.join(dir, "zabbix-ha-config-sync"),
                renderConfigSyncScript({
                    sourceUrl: "https://127.0.0.1:1/api_jsonrpc.php",
                    targetUrls: ["https://127.0.0.1:2/api_jsonrpc.php"],
                    apiUser: "sync",
                    passwordFile: path.join(dir, "password"),
                    caFile: path.join(dir, "ca.crt"),
                }),
                0o755,
            );
            const files = [
                await putFile(path.join(dir, "zabbix-ha-config-sync.service"), service(scriptPath)),
                await putFile(path.join(dir, "zabbix-ha-config-sync.timer"), timer),
            ];
            return await run("systemd-analyze", ["verify", ...files]);
        } finally {
            await s.cleanup();
        }
    }

    test("systemd-analyze verify accepts the rendered service and timer without a word", async () => {
        const result = await verify(
            scriptPath => renderConfigSyncService({ ...units, scriptPath }),
            renderConfigSyncTimer({ ...units, scriptPath: "/unused" }),
        );
        // It exits 0 on unknown keys and only warns: silence is the acceptance.
        expect(result.output.trim()).toBe("");
        expect(result.code).toBe(0);
    });

    test("systemd-analyze verify reports a misspelt key (and still exits 0, hence the silence check)", async () => {
        const result = await verify(
            scriptPath => renderConfigSyncService({ ...units, scriptPath }).replace("Wants=", "Want="),
            renderConfigSyncTimer({ ...units, scriptPath: "/unused" }).replace("OnUnitActiveSec=", "OnUnitActivSec="),
        );
        expect(result.output).toMatch(
            /zabbix-ha-config-sync\.service:\d+: Unknown key '?Want'? in section \[?Unit\]?, ignoring/,
        );
        expect(result.output).toMatch(
            /zabbix-ha-config-sync\.timer:\d+: Unknown key '?OnUnitActivSec'? in section \[?Timer\]?, ignoring/,
        );
    });
});
