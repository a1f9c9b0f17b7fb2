/**
 * A Zabbix server whose DB connect hangs gives up and tries again, with the environment the
 * server unit's drop-in sets: Debian's zabbix_server 6.0 against a listener that accepts and never
 * answers, as a just-started HAProxy left the lab's server after a host's power cut.
 */
import { existsSync, readFileSync } from "fs";
import * as net from "net";
import * as path from "path";
import { renderServerUnitDropIn } from "../../components/zabbix/render";
import { freePort, putFile, scratchSpace, sleep, testPki, waitFor } from "./support";
import { scratchServerConf } from "./zabbix-db";

jest.setTimeout(120_000);

const scratch = scratchSpace();

/** The `Environment=` assignments of a unit drop-in, as systemd hands them to the service. */
function unitEnvironment(dropIn: string): Record<string, string> {
    return Object.fromEntries(
        dropIn
            .split("\n")
            .filter(line => line.startsWith("Environment="))
            .map(line => line.slice("Environment=".length).split("=", 2) as [string, string]),
    );
}

/** A "database" that takes connections and never says a word; it counts them. */
async function silentListener(): Promise<{ port: number; connections: () => number }> {
    const port = await freePort();
    let count = 0;
    const sockets: net.Socket[] = [];
    const server = net.createServer(socket => {
        count++;
        sockets.push(socket);
        socket.on("error", () => undefined);
    });
    await new Promise<void>(resolve => server.listen(port, "127.0.0.1", resolve));
    scratch.defer("stop the silent listener", () => {
        sockets.forEach(s => s.destroy());
        return new Promise<void>(resolve => server.close(() => resolve()));
    });
    return { port, connections: () => count };
}

/** A server rendered against `dbPort`, started with `env`; its log file. */
async function startServer(name: string, dbPort: number, env: Record<string, string>): Promise<() => string> {
    const dir = await scratch.dir(`zabbix-connect-${name}`, "zabbix");
    const log = path.join(dir, "zabbix_server.log"); // where scratchServerConf puts it
    const include = await putFile(path.join(dir, "db-password.conf"), "DBPassword=unused\n", 0o640, "zabbix");
    const conf = await putFile(
        path.join(dir, "zabbix_server.conf"),
        scratchServerConf(dir, {
            nodeName: name,
            listenPort: await freePort(),
            dbPort,
            dbName: "zabbix",
            passwordInclude: include,
            // What a stack's server is given: verify-full against a CA (the test's; no handshake ever completes here).
            dbTls: (await testPki(scratch)).db,
        }),
        0o640,
        "zabbix",
    );
    scratch.daemon(`zabbix_server ${name}`, "zabbix_server", ["-c", conf, "-f"], { user: "zabbix", cwd: dir, env });
    return () => (existsSync(log) ? readFileSync(log, "utf8") : "");
}

test("with the drop-in's environment a hanging DB connect times out and is retried; without it, it waits", async () => {
    const env = unitEnvironment(renderServerUnitDropIn());
    expect(env.PGCONNECT_TIMEOUT).toMatch(/^\d+$/);
    const bounded = await silentListener();
    const unbounded = await silentListener();
    const boundedLog = await startServer("bounded", bounded.port, env);
    const unboundedLog = await startServer("unbounded", unbounded.port, {});
    // The connect times out after PGCONNECT_TIMEOUT, Zabbix waits 10 s and connects again.
    await waitFor("the bounded server to connect a second time", () => bounded.connections() >= 2, {
        timeoutMs: (Number(env.PGCONNECT_TIMEOUT) + 10 + 20) * 1000,
        detail: boundedLog,
    });
    expect(boundedLog()).toMatch(/timeout expired/);
    // The other one, started at the same time, is still on its first connect.
    await sleep(1000);
    expect(unbounded.connections()).toBe(1);
    expect(unboundedLog()).not.toMatch(/timeout expired|database is down/);
});
