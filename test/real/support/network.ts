/**
 * Loopback networking of the real-tool checks: free ports for scratch servers, a relay that sets a
 * connection's source address, and HAProxy's view of its servers.
 */
import * as net from "net";
import { Scratch } from "./scratch";

/**
 * A TCP port nothing listens on right now (on any address), for a scratch server. Drawn from
 * 20000-32767: below Linux's ephemeral range (so outgoing connections do not take it meanwhile)
 * and within what zabbix_server accepts for ListenPort (1024-32767).
 */
export async function freePort(): Promise<number> {
    for (let attempt = 0; attempt < 100; attempt++) {
        const port = 20000 + Math.floor(Math.random() * (32767 - 20000));
        const free = await new Promise<boolean>(resolve => {
            const server = net.createServer();
            server.unref();
            server.once("error", () => resolve(false));
            server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
        });
        if (free) {
            return port;
        }
    }
    throw new Error("no free TCP port found in 20000-32767");
}

/**
 * A TCP relay on 127.0.0.1 whose connections onward to `target` leave from `source` (another
 * loopback address). psql cannot pick its source address, and Linux sends loopback traffic from
 * 127.0.0.1 whichever 127.x address it goes to; through the relay the server sees `source`.
 */
export async function relayFrom(
    scratch: Scratch,
    source: string,
    target: { host: string; port: number },
): Promise<number> {
    const sockets = new Set<net.Socket>();
    const track = (s: net.Socket) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        s.on("error", () => s.destroy());
    };
    const server = net.createServer(client => {
        const upstream = net.createConnection({ host: target.host, port: target.port, localAddress: source });
        track(client);
        track(upstream);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
        client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    scratch.defer(
        `close the relay from ${source}`,
        () =>
            new Promise<void>(resolve => {
                sockets.forEach(s => s.destroy());
                server.close(() => resolve());
            }),
    );
    return (server.address() as net.AddressInfo).port;
}

/** Status of each server of a proxy, from the stats socket's `show stat` CSV. */
export function serverStatus(socket: string, proxy: string): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        const conn = net.createConnection({ path: socket }, () => conn.end("show stat\n"));
        conn.setTimeout(5_000, () => conn.destroy(new Error(`no answer on ${socket}`)));
        conn.on("data", b => chunks.push(b));
        conn.on("error", reject);
        conn.on("close", () => {
            const [header, ...rows] = Buffer.concat(chunks).toString().trim().split("\n");
            const columns = header.replace(/^# /, "").split(",");
            const col = (name: string) => columns.indexOf(name);
            const status: Record<string, string> = {};
            for (const row of rows.map(r => r.split(","))) {
                if (row[col("pxname")] === proxy && !["FRONTEND", "BACKEND"].includes(row[col("svname")])) {
                    status[row[col("svname")]] = row[col("status")];
                }
            }
            resolve(status);
        });
    });
}
