/**
 * Split-brain watch, sampled every second for the whole drill: never two databases accepting writes,
 * never two Zabbix nodes active with a fresh heartbeat (each writable database's own ha_node counts).
 * Each DB host is asked as the admin role from the machine; one the machine cannot reach (its site
 * cut off) is asked from inside its own network namespace, since a cut-off old primary is exactly
 * where a second writer would hide.
 */
import { DbView, dbView } from "../checks";
import { sleep } from "../machines";
import { DrillLab } from "./context";
import { adminOn, ask, fromInside } from "./sql";

export interface SplitBrainReport {
    readonly samples: number;
    /** Samples in which some DB host could be asked neither way (down, or its PostgreSQL not running). */
    readonly blindSamples: number;
    /** Samples that reached a host only from inside its namespace. */
    readonly insideSamples: number;
    readonly maxWritable: number;
    readonly maxActive: number;
    /** The first few samples that broke a rule, with their time relative to the fault. */
    readonly violations: readonly string[];
}

export class SplitBrainWatch {
    private running = false;
    private loop?: Promise<void>;
    private samples = 0;
    private blind = 0;
    private inside = 0;
    private maxWritable = 0;
    private maxActive = 0;
    private readonly violations: string[] = [];

    constructor(
        private readonly lab: DrillLab,
        private readonly since: () => number,
    ) {}

    start(): void {
        this.running = true;
        this.loop = this.run();
    }

    async stop(): Promise<SplitBrainReport> {
        this.running = false;
        await this.loop;
        return {
            samples: this.samples,
            blindSamples: this.blind,
            insideSamples: this.inside,
            maxWritable: this.maxWritable,
            maxActive: this.maxActive,
            violations: [...this.violations],
        };
    }

    private async run(): Promise<void> {
        while (this.running) {
            const started = Date.now();
            await this.sample();
            await sleep(Math.max(0, 1000 - (Date.now() - started)));
        }
    }

    private async view(host: DrillLab["dbHosts"][number]): Promise<{ view?: DbView; inside: boolean }> {
        const delay = this.lab.model.failoverDelaySeconds;
        try {
            return { view: await dbView(ask(adminOn(this.lab, host), 2500), delay), inside: false };
        } catch {
            try {
                return { view: await dbView(ask(fromInside(this.lab, host), 2500), delay), inside: true };
            } catch {
                return { inside: false };
            }
        }
    }

    private async sample(): Promise<void> {
        const views = await Promise.all(this.lab.dbHosts.map(async host => ({ host, ...(await this.view(host)) })));
        this.samples++;
        if (views.some(v => !v.view)) {
            this.blind++;
        }
        if (views.some(v => v.inside)) {
            this.inside++;
        }
        const writable = views.filter(v => v.view?.writable).map(v => v.host.name);
        const active = [...new Set(views.flatMap(v => v.view?.active ?? []))];
        this.maxWritable = Math.max(this.maxWritable, writable.length);
        this.maxActive = Math.max(this.maxActive, active.length);
        if ((writable.length > 1 || active.length > 1) && this.violations.length < 5) {
            const at = ((Date.now() - this.since()) / 1000).toFixed(1);
            this.violations.push(
                `t=${at} s: writable ${writable.join(", ") || "none"}; active ${active.join(", ") || "none"}`,
            );
        }
    }
}
