/**
 * Values sent at a steady rate to a trapper item through the Zabbix sender protocol, as a device or
 * zabbix_sender would: a "ZBXD\x01" header, the length (8 bytes, little-endian), then JSON. Each
 * value is a sequence number, so what the database stored can be counted against what was sent.
 * A value goes to whichever server node accepts it: standby nodes do not listen on the trapper port.
 */
import * as net from "net";

export interface SenderTarget {
    readonly name: string;
    readonly address: string;
    readonly port: number;
}

/** One request, bounded in time; resolves with the server's answer, rejects when it could not be delivered. */
export function senderRequest(
    target: SenderTarget,
    payload: unknown,
    timeoutMs = 1500,
): Promise<{ response?: string; info?: string }> {
    const json = Buffer.from(JSON.stringify(payload));
    const header = Buffer.alloc(13);
    header.write("ZBXD\x01", 0, "latin1");
    header.writeUInt32LE(json.length, 5);
    return new Promise((resolve, reject) => {
        const socket = net.connect({ host: target.address, port: target.port });
        const chunks: Buffer[] = [];
        const timer = setTimeout(() => socket.destroy(new Error("timed out")), timeoutMs);
        socket.on("connect", () => socket.end(Buffer.concat([header, json])));
        socket.on("data", (c: Buffer) => chunks.push(c));
        socket.on("error", err => {
            clearTimeout(timer);
            reject(err);
        });
        socket.on("close", () => {
            clearTimeout(timer);
            const answer = Buffer.concat(chunks);
            if (answer.length < 13 || answer.toString("latin1", 0, 4) !== "ZBXD") {
                reject(new Error(`no answer (${answer.length} bytes)`));
                return;
            }
            try {
                resolve(JSON.parse(answer.subarray(13).toString()));
            } catch {
                reject(new Error("unreadable answer"));
            }
        });
    });
}

export interface StreamStats {
    readonly first: number;
    /** The last sequence number sent (first - 1 before any). */
    readonly last: number;
    readonly sent: number;
    /** Values a node answered "processed: 1" for. */
    readonly accepted: number;
    /** Accepted values by node. */
    readonly acceptedBy: Readonly<Record<string, number>>;
    /** Values no node accepted (refused, unreachable, or more requests in flight than allowed). */
    readonly undelivered: number;
}

/** Requests in flight at most; beyond that a value counts as sent but undelivered, as a device's buffer would overflow. */
const MAX_IN_FLIGHT = 16;

export class ValueStream {
    private timer?: NodeJS.Timeout;
    private next: number;
    private readonly sentAt: number[] = [];
    private preferred = 0;
    private inFlight = new Set<Promise<void>>();
    private accepted = 0;
    private undelivered = 0;
    private readonly acceptedBy: Record<string, number> = {};
    /** Which node accepted each value: a value acknowledged and then lost says where it was lost. */
    private readonly acceptor = new Map<number, string>();

    constructor(
        private readonly targets: readonly SenderTarget[],
        private readonly host: string,
        private readonly key: string,
        /** The first sequence number: a fresh range per drill, so drills never count each other's values. */
        readonly first: number,
        private readonly perSecond = 4,
    ) {
        this.next = first;
    }

    start(): void {
        this.timer = setInterval(() => this.tick(), 1000 / this.perSecond);
    }

    /** Stops sending and waits for the requests under way. */
    async stop(): Promise<StreamStats> {
        clearInterval(this.timer);
        await Promise.all(this.inFlight);
        return this.stats();
    }

    stats(): StreamStats {
        return {
            first: this.first,
            last: this.next - 1,
            sent: this.next - this.first,
            accepted: this.accepted,
            acceptedBy: { ...this.acceptedBy },
            undelivered: this.undelivered,
        };
    }

    /** Values acknowledged by a node, with the node. */
    acceptedValues(): ReadonlyMap<number, string> {
        return this.acceptor;
    }

    /** When a value was sent (ms since the epoch). */
    sentTime(value: number): number {
        return this.sentAt[value - this.first];
    }

    /** The last sequence number sent at or before a moment (first - 1 when none was). */
    sequenceAt(time: number): number {
        let i = this.sentAt.length - 1;
        while (i >= 0 && this.sentAt[i] > time) {
            i--;
        }
        return this.first + i;
    }

    private tick(): void {
        const value = this.next++;
        this.sentAt.push(Date.now());
        if (this.inFlight.size >= MAX_IN_FLIGHT) {
            this.undelivered++;
            return;
        }
        const p = this.deliver(value).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
    }

    /** The node that accepted last is tried first, then the others in turn. */
    private async deliver(value: number): Promise<void> {
        const payload = { request: "sender data", data: [{ host: this.host, key: this.key, value: String(value) }] };
        for (let i = 0; i < this.targets.length; i++) {
            const index = (this.preferred + i) % this.targets.length;
            const target = this.targets[index];
            try {
                const answer = await senderRequest(target, payload);
                if (answer.response === "success" && /processed: 1;/.test(answer.info ?? "")) {
                    this.preferred = index;
                    this.accepted++;
                    this.acceptedBy[target.name] = (this.acceptedBy[target.name] ?? 0) + 1;
                    this.acceptor.set(value, target.name);
                    return;
                }
            } catch {
                // refused (a standby), unreachable (a cut site): the next node
            }
        }
        this.undelivered++;
    }
}
