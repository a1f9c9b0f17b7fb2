/**
 * Helpers for the DRBD, corosync and Pacemaker checks: where each program comes from (a missing
 * one fails naming its Debian package), a strict little XML reader for what the Pacemaker tools
 * print, a reader for `drbdadm dump` output, and the check of every CIB primitive's parameters
 * against its agent's own metadata (crm_verify does not look at parameter names).
 */
import { existsSync } from "fs";
import * as path from "path";
import { RunOptions, RunResult, run } from "./support";

/** The Debian 12 package of each program these checks run; .ci/debian-packages lists them all. */
export const CLUSTER_TOOL_PACKAGES: Readonly<Record<string, string>> = {
    xmllint: "libxml2-utils",
    crm_verify: "pacemaker-cli-utils",
    crm_simulate: "pacemaker-cli-utils",
    crm_resource: "pacemaker-cli-utils",
    crm_attribute: "pacemaker-cli-utils",
    cibadmin: "pacemaker-cli-utils",
    "pacemaker-fenced": "pacemaker",
    drbdadm: "drbd-utils",
    corosync: "corosync",
    "corosync-quorumtool": "corosync",
    "corosync-cmapctl": "corosync",
    shellcheck: "shellcheck",
    sh: "dash",
};

/** Files the checks read (agents, shipped configuration), with the package that ships them. */
export const CLUSTER_FILE_PACKAGES: Readonly<Record<string, string>> = {
    "/usr/lib/ocf/resource.d/linbit/drbd": "drbd-utils",
    "/usr/lib/ocf/resource.d/heartbeat/Filesystem": "resource-agents",
    "/usr/lib/ocf/resource.d/heartbeat/IPaddr2": "resource-agents",
    "/usr/sbin/fence_ipmilan": "fence-agents",
    "/etc/drbd.d/global_common.conf": "drbd-utils",
    "/usr/lib/drbd/crm-fence-peer.9.sh": "drbd-utils",
    "/usr/lib/drbd/crm-unfence-peer.9.sh": "drbd-utils",
    "/usr/lib/drbd/crm-fence-peer.sh": "drbd-utils",
    "/usr/lib/drbd/crm-unfence-peer.sh": "drbd-utils",
};

const SEARCH = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/lib/pacemaker"];

function missing(what: string, pkg: string | undefined): Error {
    return new Error(
        `${what} not found: apt-get install --no-install-recommends ${pkg ?? "(no package known: add it to CLUSTER_TOOL_PACKAGES in test/real/cluster-support.ts)"}`,
    );
}

/** Absolute path of a program; throws naming its Debian package when it is missing. */
export function clusterTool(name: string): string {
    for (const dir of [...SEARCH, ...(process.env.PATH ?? "").split(":").filter(Boolean)]) {
        const candidate = path.join(dir, name);
        if (existsSync(candidate)) {
            return candidate;
        }
    }
    throw missing(name, CLUSTER_TOOL_PACKAGES[name]);
}

/** Throws naming the Debian package when a file the checks read is missing. */
export function requireClusterFile(file: string): string {
    if (!existsSync(file)) {
        throw missing(file, CLUSTER_FILE_PACKAGES[file]);
    }
    return file;
}

/** Runs one of the cluster programs (found with clusterTool). */
export function runTool(name: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(clusterTool(name), args, opts);
}

// ---------------------------------------------------------------------------------------------
// XML: enough of it for the Pacemaker tools' output and agent metadata; anything malformed throws.

export interface XmlElement {
    readonly name: string;
    readonly attrs: Readonly<Record<string, string>>;
    readonly children: XmlElement[];
}

function decodeEntities(text: string): string {
    return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
        if (e.startsWith("#x")) {
            return String.fromCodePoint(parseInt(e.slice(2), 16));
        }
        if (e.startsWith("#")) {
            return String.fromCodePoint(parseInt(e.slice(1), 10));
        }
        return ({ lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" } as Record<string, string>)[e];
    });
}

/** What the parser passes over, by how it opens and closes: comments, processing instructions, CDATA, the doctype. */
const XML_SKIPPED: readonly (readonly [string, string])[] = [
    ["<!--", "-->"],
    ["<?", "?>"],
    ["<![CDATA[", "]]>"],
    ["<!DOCTYPE", ">"],
];

/** Parses a document into its root element; comments, PIs, DOCTYPE and text are skipped. */
export function parseXml(text: string): XmlElement {
    const stack: XmlElement[] = [];
    let root: XmlElement | undefined;
    let i = 0;
    const fail = (why: string): never => {
        throw new Error(`XML: ${why} at offset ${i}`);
    };
    while (i < text.length) {
        const lt = text.indexOf("<", i);
        if (lt < 0) {
            if (text.slice(i).trim() !== "") {
                fail("text after the root element");
            }
            break;
        }
        if (stack.length === 0 && text.slice(i, lt).trim() !== "") {
            fail("text outside the root element");
        }
        i = lt;
        const skip = (open: string, close: string) => {
            const end = text.indexOf(close, i + open.length);
            if (end < 0) {
                fail(`unterminated ${open}`);
            }
            i = end + close.length;
        };
        const skipped = XML_SKIPPED.find(([open]) => text.startsWith(open, i));
        if (skipped) {
            skip(...skipped);
            continue;
        }
        if (text.startsWith("</", i)) {
            const m = /^<\/([A-Za-z_][\w.:-]*)\s*>/.exec(text.slice(i));
            if (!m) {
                fail("bad end tag");
            }
            const open = stack.pop();
            if (!open || open.name !== m![1]) {
                fail(`</${m![1]}> closes <${open?.name ?? "nothing"}>`);
            }
            i += m![0].length;
            continue;
        }
        const m = /^<([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(
            text.slice(i),
        );
        if (!m) {
            fail("bad start tag");
        }
        const attrs: Record<string, string> = {};
        for (const a of m![2].matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
            if (a[1] in attrs) {
                fail(`attribute ${a[1]} given twice`);
            }
            attrs[a[1]] = decodeEntities(a[2] ?? a[3]);
        }
        const el: XmlElement = { name: m![1], attrs, children: [] };
        if (stack.length > 0) {
            stack[stack.length - 1].children.push(el);
        } else if (root) {
            fail("a second root element");
        } else {
            root = el;
        }
        if (m![3] !== "/") {
            stack.push(el);
        }
        i += m![0].length;
    }
    if (stack.length > 0) {
        fail(`<${stack[stack.length - 1].name}> is never closed`);
    }
    if (!root) {
        fail("no root element");
    }
    return root!;
}

/** Every element named `name` under `el` (depth first, document order), `el` included. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
    return [...(el.name === name ? [el] : []), ...el.children.flatMap(c => findAll(c, name))];
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
    return el.children.find(c => c.name === name);
}

// ---------------------------------------------------------------------------------------------
// Agent parameters.

export interface AgentParameter {
    readonly required: boolean;
    readonly deprecated: boolean;
}

const metadataCache = new Map<string, Promise<Map<string, AgentParameter> | string>>();

function parametersOf(metadata: string): Map<string, AgentParameter> {
    const params = new Map<string, AgentParameter>();
    for (const p of findAll(parseXml(metadata), "parameter")) {
        params.set(p.attrs.name, { required: p.attrs.required === "1", deprecated: p.attrs.deprecated === "1" });
    }
    return params;
}

/** The parameters an agent declares, or the reason its metadata could not be had. */
export function agentParameters(agent: string): Promise<Map<string, AgentParameter> | string> {
    let cached = metadataCache.get(agent);
    if (!cached) {
        cached = (async () => {
            const result = await runTool("crm_resource", ["--show-metadata", agent]);
            if (result.code !== 0 || !result.stdout.includes("<resource-agent")) {
                return `crm_resource --show-metadata ${agent} exited ${result.code}: ${result.output.trim()}`;
            }
            const params = parametersOf(result.stdout);
            if (agent.startsWith("stonith:")) {
                // The fencer's own parameters (pcmk_host_list, pcmk_delay_base, ...) apply to every device.
                const fenced = await runTool("pacemaker-fenced", ["metadata"]);
                if (fenced.code !== 0) {
                    return `pacemaker-fenced metadata exited ${fenced.code}: ${fenced.output.trim()}`;
                }
                parametersOf(fenced.stdout).forEach((v, k) => params.set(k, v));
            }
            return params;
        })();
        metadataCache.set(agent, cached);
    }
    return cached;
}

/**
 * What is wrong with the primitives' parameters of a CIB, one line per problem: an agent without
 * metadata, a parameter the agent does not declare or has deprecated, a required one missing.
 * systemd units take no parameters (their metadata needs a running systemd, so none is asked).
 */
export async function parameterProblems(cib: string): Promise<string[]> {
    const problems: string[] = [];
    for (const p of findAll(parseXml(cib), "primitive")) {
        const given = (child(p, "instance_attributes")?.children ?? [])
            .filter(c => c.name === "nvpair")
            .map(c => c.attrs.name);
        const cls = p.attrs.class;
        if (cls === "systemd") {
            problems.push(
                ...given.map(name => `${p.attrs.id}: systemd:${p.attrs.type} takes no parameter, got ${name}`),
            );
            continue;
        }
        const agent = [cls, p.attrs.provider, p.attrs.type].filter(Boolean).join(":");
        const params = await agentParameters(agent);
        if (typeof params === "string") {
            problems.push(`${p.attrs.id}: unknown agent ${agent} (${params})`);
            continue;
        }
        for (const name of given) {
            const declared = params.get(name);
            if (!declared) {
                problems.push(`${p.attrs.id}: ${agent} has no parameter ${name}`);
            } else if (declared.deprecated) {
                problems.push(`${p.attrs.id}: ${agent} parameter ${name} is deprecated`);
            }
        }
        for (const [name, info] of params) {
            if (info.required && !given.includes(name)) {
                problems.push(`${p.attrs.id}: ${agent} requires ${name}`);
            }
        }
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// drbdadm dump output.

/** A section of a DRBD configuration: `name args { statements; sections }`. */
export interface DrbdSection {
    readonly keyword: string;
    readonly args: readonly string[];
    /** Statements `key value...;`, in order. */
    readonly options: ReadonlyArray<{ key: string; values: string[] }>;
    readonly sections: DrbdSection[];
}

/** Parses drbd.conf syntax (as `drbdadm dump` prints it); comments dropped, quotes removed. */
export function parseDrbdConf(text: string): DrbdSection {
    const tokens = [...text.replace(/#.*$/gm, "").matchAll(/"([^"]*)"|([{};])|([^\s{};"]+)/g)].map(m =>
        m[1] !== undefined ? { word: m[1] } : m[2] ? { punct: m[2] } : { word: m[3] },
    );
    let pos = 0;
    const parse = (keyword: string, args: string[]): DrbdSection => {
        const section: DrbdSection = { keyword, args, options: [], sections: [] };
        const words: string[] = [];
        while (pos < tokens.length) {
            const t = tokens[pos++];
            if ("word" in t && t.word !== undefined) {
                words.push(t.word);
            } else if (t.punct === ";") {
                if (words.length > 0) {
                    (section.options as Array<{ key: string; values: string[] }>).push({
                        key: words[0],
                        values: words.slice(1),
                    });
                }
                words.length = 0;
            } else if (t.punct === "{") {
                section.sections.push(parse(words[0], words.slice(1)));
                words.length = 0;
            } else if (t.punct === "}") {
                if (keyword === "(top)") {
                    throw new Error("drbd conf: unbalanced }");
                }
                return section;
            }
        }
        if (keyword !== "(top)") {
            throw new Error(`drbd conf: section ${keyword} is never closed`);
        }
        return section;
    };
    return parse("(top)", []);
}

export function section(s: DrbdSection, keyword: string, ...args: string[]): DrbdSection | undefined {
    return s.sections.find(x => x.keyword === keyword && args.every((a, i) => x.args[i] === a));
}

export function option(s: DrbdSection | undefined, key: string): string[] | undefined {
    return s?.options.find(o => o.key === key)?.values;
}
