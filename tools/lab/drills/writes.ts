/**
 * What a database failover does to writes, measured from outside as Zabbix meets it, through the
 * load balancers' DB ports:
 *  - a writer commits a numbered row every 200 ms through the surviving balancers in turn, and
 *    keeps each row the database acknowledged; at the end, every acknowledged row must still be
 *    there (`commitsLost`), wherever the promise says so;
 *  - every second, each surviving balancer is asked a few times (new sessions each, as Zabbix's
 *    reconnects are) which server answers and whether it accepts writes; the distinct writable
 *    servers seen in one second, across all of them, is that second's count (`maxWritable` must
 *    stay at most 1: the review saw one balancer alternate sessions between two writable primaries).
 */
import { answeringServer } from "../checks";
import { LabHost, sleep } from "../machines";
import { DrillLab } from "./context";
import { SqlTarget, adminViaLoadBalancer, ask, query, viaLoadBalancer } from "./sql";

const TABLE = "zha_drill_commits";

export interface WriteReport {
    /** Rows the writer tried to commit, and those a database acknowledged. */
    readonly attempted: number;
    readonly acknowledged: number;
    /** Acknowledged by which server (address), for the notes. */
    readonly acknowledgedBy: Readonly<Record<string, number>>;
    /** The longest run without an acknowledged commit, seconds. */
    readonly longestWithoutWriterSeconds: number;
    /** Seconds sampled, and the most writable servers seen through the balancers in one of them. */
    readonly samples: number;
    readonly maxWritable: number;
    /** Every writable server seen through a balancer, and the seconds (from the start) when more than one was. */
    readonly writableSeen: readonly string[];
    readonly violations: readonly string[];
}

/** The table the writer fills, made once (as the zabbix role, through a balancer). */
export async function ensureCommitTable(lab: DrillLab): Promise<void> {
    await query(
        viaLoadBalancer(lab, lab.loadBalancers[0]),
        `create table if not exists ${TABLE} (run text not null, seq bigint not null, at timestamptz not null default now(), primary key (run, seq))`,
        10_000,
    );
}

export class WriteProbe {
    private running = false;
    private loops: Promise<void>[] = [];
    private attempted = 0;
    private readonly acked = new Map<number, { at: number; server: string }>();
    private samples = 0;
    private maxWritable = 0;
    private readonly seen = new Set<string>();
    private readonly violations: string[] = [];
    private started = 0;

    constructor(
        private readonly lab: DrillLab,
        private readonly through: readonly LabHost[],
        readonly run: string,
    ) {}

    start(): void {
        this.running = true;
        this.started = Date.now();
        this.loops = [this.write(), this.sample()];
    }

    async stop(): Promise<WriteReport> {
        this.running = false;
        await Promise.all(this.loops);
        const times = [this.started, ...[...this.acked.values()].map(a => a.at).sort((a, b) => a - b), Date.now()];
        const longest = times.slice(1).reduce((max, t, i) => Math.max(max, t - times[i]), 0);
        const by: Record<string, number> = {};
        this.acked.forEach(a => {
            by[a.server] = (by[a.server] ?? 0) + 1;
        });
        return {
            attempted: this.attempted,
            acknowledged: this.acked.size,
            acknowledgedBy: by,
            longestWithoutWriterSeconds: longest / 1000,
            samples: this.samples,
            maxWritable: this.maxWritable,
            writableSeen: [...this.seen],
            violations: [...this.violations],
        };
    }

    /** Acknowledged rows missing from the database now (asked through the first balancer that answers). */
    async commitsLost(): Promise<number[]> {
        for (const lb of this.lab.loadBalancers) {
            try {
                const rows = await query(
                    adminViaLoadBalancer(this.lab, lb),
                    `select seq from ${TABLE} where run = '${this.run}'`,
                    10_000,
                );
                const present = new Set(rows.map(r => Number(r[0])));
                return [...this.acked.keys()].filter(seq => !present.has(seq)).sort((a, b) => a - b);
            } catch {
                // the next balancer
            }
        }
        throw new Error("no load balancer answered the commit check");
    }

    /** As the admin role through each balancer's DB port, to the Zabbix database: the same path as Zabbix's. */
    private targets(): SqlTarget[] {
        return this.through.map(lb => adminViaLoadBalancer(this.lab, lb));
    }

    private async write(): Promise<void> {
        let seq = 0;
        while (this.running) {
            const started = Date.now();
            const targets = this.targets();
            const target = targets[seq % targets.length];
            seq++;
            this.attempted++;
            try {
                const [[server]] = await query(
                    target,
                    `insert into ${TABLE} (run, seq) values ('${this.run}', ${seq}) returning host(inet_server_addr())`,
                    3000,
                );
                this.acked.set(seq, { at: Date.now(), server });
            } catch {
                // not acknowledged: no promise was made for this row
            }
            await sleep(Math.max(0, 200 - (Date.now() - started)));
        }
    }

    private async sample(): Promise<void> {
        while (this.running) {
            const started = Date.now();
            const answers = await Promise.all(
                this.targets().flatMap(t => [0, 1, 2].map(() => answeringServer(ask(t, 2500)).catch(() => undefined))),
            );
            const writable = new Set(answers.flatMap(a => (a?.writable ? [a.server] : [])));
            writable.forEach(s => this.seen.add(s));
            this.samples++;
            this.maxWritable = Math.max(this.maxWritable, writable.size);
            if (writable.size > 1 && this.violations.length < 5) {
                this.violations.push(
                    `t=${((Date.now() - this.started) / 1000).toFixed(1)} s: writable through the balancers: ${[...writable].join(", ")}`,
                );
            }
            await sleep(Math.max(0, 1000 - (Date.now() - started)));
        }
    }
}
