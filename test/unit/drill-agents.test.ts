/**
 * The agents' source of the drills (tools/lab/drills/agents.ts): when a monitored host's data path
 * stalled and resumed, read off the times its values first appeared in the database; and how the
 * drill's recovery joins the servers' with the hosts the fault leaves in service. Pure: no lab here.
 */
import { AgentSourceFigures, lastStall } from "../../tools/lab/drills/agents";
import { DrillLab } from "../../tools/lab/drills/context";
import { combinedRecovery } from "../../tools/lab/drills/runner";

const FAULT = 100_000;
const UNDO = 200_000;
/** First-seen times once a second from `from` to `to` (ms), as the drill's poll sees a flowing host. */
const everySecond = (from: number, to: number) =>
    Array.from({ length: Math.floor((to - from) / 1000) + 1 }, (_, i) => from + i * 1000);

describe("a host's last stall", () => {
    test("values that keep coming never stall", () => {
        expect(lastStall(everySecond(90_000, 210_000), FAULT, UNDO)).toBeUndefined();
    });

    test("a gap after the fault ends when values come again, its length the stall", () => {
        const seen = [...everySecond(90_000, 101_000), ...everySecond(175_000, 210_000)];
        expect(lastStall(seen, FAULT, UNDO)).toEqual({ end: 175_000, longest: 74 });
    });

    test("a gap that opens after the undo is not the fault's", () => {
        const seen = [...everySecond(90_000, 210_000), ...everySecond(230_000, 240_000)];
        expect(lastStall(seen, FAULT, UNDO)).toBeUndefined();
    });

    test("a gap before the fault does not count; one that lasts past the undo ends after it", () => {
        const before = [...everySecond(50_000, 60_000), ...everySecond(80_000, 150_000)];
        expect(lastStall(before, FAULT, UNDO)).toEqual({ end: Infinity, longest: 50 });
        const afterUndo = [...everySecond(90_000, 120_000), ...everySecond(230_000, 240_000)];
        expect(lastStall(afterUndo, FAULT, UNDO)).toEqual({ end: 230_000, longest: 110 });
    });
});

describe("the drill's recovery", () => {
    const lab = {
        topo: {
            hosts: [
                { name: "tyo-mon1", site: "tokyo" },
                { name: "osa-mon1", site: "osaka" },
            ],
        },
    } as unknown as DrillLab;
    const agents = (tyo: number | null, osa: number | null): AgentSourceFigures => ({
        valuesProduced: 0,
        valuesStored: 0,
        valuesLost: 0,
        latencyMaxSeconds: null,
        latencyP95Seconds: null,
        hosts: {
            "tyo-mon1": { produced: 0, stored: 0, resumedSeconds: tyo, longestStallSeconds: 0 },
            "osa-mon1": { produced: 0, stored: 0, resumedSeconds: osa, longestStallSeconds: 0 },
        },
    });

    test("is the servers' alone without agents, and the latest of servers and hosts with them", () => {
        expect(combinedRecovery(12, undefined, {}, lab)).toBe(12);
        expect(combinedRecovery(12, agents(3, 76), {}, lab)).toBe(76);
        expect(combinedRecovery(null, agents(3, 4), {}, lab)).toBeNull();
    });

    test("a host the fault takes out of service (its site dark, or itself down) does not count", () => {
        expect(combinedRecovery(12, agents(null, 5), { sitesDark: ["tokyo"] }, lab)).toBe(12);
        expect(combinedRecovery(12, agents(5, null), { hostsDown: ["osa-mon1"] }, lab)).toBe(12);
        expect(combinedRecovery(12, agents(5, null), {}, lab)).toBeNull();
    });
});
