/**
 * The port scan the issue asks for: from a host in each other site, which of a host's listening TCP
 * ports answer. What may answer is what the host's firewall declares it admits from that address
 * (the HostFirewall's `admits` facts, as the plan built them); anything else answering is exposure.
 *
 * The scan probes every port the host listens on beyond loopback (read with `ss` in the host's
 * network namespace), which is what a full TCP connect scan would find: a port nobody listens on
 * never accepts. UDP is not scanned (the lab runs no UDP service across sites; corosync's knet runs
 * only in pattern 3, which the lab cannot deploy without DRBD).
 */
import { cidrContains } from "../../../components/config";
import { HOST_FIREWALL, HostFirewallFacts, factsOf } from "../../../components/facts";
import { LabHost, Topology, run } from "../machines";
import { ResourceState } from "../replay";
import { Check } from "./verify";

/** How long a probe waits for a connection: a dropped SYN never answers. */
const PROBE_TIMEOUT_MS = 1500;

/** Probes host:port pairs with TCP connects, printing the ones that accepted, as JSON. */
const PROBE_SCRIPT = `
const net = require("net");
const targets = JSON.parse(process.argv[1]);
Promise.all(targets.map(([host, port]) => new Promise(resolve => {
    const s = net.connect({ host, port, timeout: ${PROBE_TIMEOUT_MS} });
    const done = open => { s.destroy(); resolve(open ? port : undefined); };
    s.on("connect", () => done(true));
    s.on("timeout", () => done(false));
    s.on("error", () => done(false));
}))).then(open => console.log(JSON.stringify(open.filter(p => p !== undefined))));
`;

/** The TCP ports a host listens on beyond loopback, from `ss` in its namespace. */
export function listeningPorts(ssOutput: string): number[] {
    const ports = new Set<number>();
    for (const line of ssOutput.split("\n")) {
        const local = line.trim().split(/\s+/)[3];
        const match = local && /^(.*):(\d+)$/.exec(local);
        if (!match) {
            continue;
        }
        const address = match[1].replace(/^\[|\]$/g, "").replace(/%.*$/, "");
        if (/^127\./.test(address) || address === "::1") {
            continue;
        }
        ports.add(Number(match[2]));
    }
    return [...ports].sort((a, b) => a - b);
}

/** The TCP ports a firewall admits from an address: a source that is anywhere, or holds it. */
export function admittedFrom(facts: HostFirewallFacts, address: string): number[] {
    const holds = (source: string) =>
        source === "any" || (source.includes("/") ? cidrContains(source, address) : source === address);
    return facts.admits
        .filter(a => a.protocol === "tcp" && a.sources.some(holds))
        .map(a => a.port)
        .sort((a, b) => a - b);
}

async function openPorts(scanner: LabHost, target: LabHost, ports: readonly number[]): Promise<number[]> {
    const out = await run("ip", [
        "netns",
        "exec",
        scanner.netns,
        process.execPath,
        "-e",
        PROBE_SCRIPT,
        JSON.stringify(ports.map(p => [target.address, p])),
    ]);
    if (out.code !== 0) {
        throw new Error(`the scan from ${scanner.name} failed: ${(out.stderr || out.stdout).trim()}`);
    }
    return JSON.parse(out.stdout.trim()) as number[];
}

/**
 * One check per host with a firewall: from the first host of every other site, the listening ports
 * that answer must all be ones the firewall admits from that scanner.
 */
export async function checkExposure(lab: Topology, resources: readonly ResourceState[]): Promise<Check[]> {
    const firewalls = factsOf(
        resources.map(r => ({ type: r.type, props: r.inputs })),
        HOST_FIREWALL,
    ).map(f => f.facts);
    const checks: Check[] = [];
    for (const facts of firewalls) {
        const target = lab.hosts.find(h => h.name === facts.host);
        if (!target) {
            continue;
        }
        const name = `exposure ${target.name}`;
        const ss = await run("ip", ["netns", "exec", target.netns, "ss", "-H", "-l", "-t", "-n"]);
        if (ss.code !== 0) {
            checks.push({ name, ok: false, detail: `ss in ${target.netns}: ${ss.stderr.trim()}` });
            continue;
        }
        const listening = listeningPorts(ss.stdout);
        const scanners = lab.sites
            .filter(s => s.name !== target.site)
            .flatMap(s => lab.hosts.filter(h => h.site === s.name).slice(0, 1));
        const findings: string[] = [];
        let ok = scanners.length > 0;
        for (const scanner of scanners) {
            const open = await openPorts(scanner, target, listening);
            const admitted = new Set(admittedFrom(facts, scanner.address));
            const exposed = open.filter(p => !admitted.has(p));
            const closed = listening.filter(p => !open.includes(p));
            ok &&= exposed.length === 0;
            findings.push(
                `from ${scanner.name}: open ${open.join(",") || "none"}` +
                    (exposed.length > 0 ? ` (NOT admitted: ${exposed.join(",")})` : "") +
                    `; filtered ${closed.join(",") || "none"}`,
            );
        }
        checks.push({
            name,
            ok,
            detail:
                scanners.length === 0
                    ? "no host in another site to scan from"
                    : `listens on ${listening.join(",")}; ${findings.join("; ")}`,
        });
    }
    return checks;
}
