/**
 * The lab's port scan reads what a host listens on from `ss` and what its firewall admits from the
 * HostFirewall's facts: both readings, on real `ss` output and facts as the stack declares them.
 */
import { admittedFrom, listeningPorts } from "../../tools/lab/checks/exposure";
import { HostFirewallFacts } from "../../components/facts";

describe("the lab's port scan", () => {
    it("reads the listening ports beyond loopback from ss -Hltn", () => {
        const ss = [
            "LISTEN 0      4096   198.18.1.10:5432      0.0.0.0:*",
            "LISTEN 0      4096     127.0.0.1:5432      0.0.0.0:*",
            "LISTEN 0      128        0.0.0.0:22        0.0.0.0:*",
            "LISTEN 0      128           [::]:22           [::]:*",
            "LISTEN 0      4096         [::1]:631          [::]:*",
            "LISTEN 0      4096 127.0.0.53%lo:53        0.0.0.0:*",
            "LISTEN 0      4096             *:10051            *:*",
        ].join("\n");
        expect(listeningPorts(ss)).toEqual([22, 5432, 10051]);
    });

    it("admits from an address what a source that is anywhere, that address or a network holding it names", () => {
        const facts: HostFirewallFacts = {
            host: "tyo-zbx1",
            site: "tokyo",
            admits: [
                { protocol: "tcp", port: 22, services: ["ssh"], sources: ["198.18.100.0/24"] },
                { protocol: "tcp", port: 80, services: ["ui-http"], sources: ["any"] },
                { protocol: "tcp", port: 5432, services: ["postgresql"], sources: ["198.18.2.10", "198.18.100.0/24"] },
                { protocol: "udp", port: 5405, services: ["corosync"], sources: ["198.18.2.10"] },
                { protocol: "tcp", port: 2380, services: ["etcd-peer"], sources: ["198.18.3.10"] },
            ],
        };
        expect(admittedFrom(facts, "198.18.2.10")).toEqual([80, 5432]);
        expect(admittedFrom(facts, "198.18.100.1")).toEqual([22, 80, 5432]);
        expect(admittedFrom(facts, "198.18.9.9")).toEqual([80]);
    });
});
