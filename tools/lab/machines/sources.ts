/**
 * The machine's own apt sources, read at run time: the lab never names a mirror itself. Both the
 * one-line format (sources.list, *.list) and deb822 (*.sources) are read; disabled entries skipped.
 */
import { existsSync, readFileSync, readdirSync } from "fs";
import * as path from "path";

export interface AptSource {
    readonly uri: string;
    readonly suites: readonly string[];
    readonly components: readonly string[];
    /** The keyring named by Signed-By (deb822) or [signed-by=] (one-line), if any. */
    readonly signedBy?: string;
    readonly file: string;
}

function oneLine(file: string, text: string): AptSource[] {
    const sources: AptSource[] = [];
    for (const raw of text.split("\n")) {
        const line = raw.replace(/#.*/, "").trim();
        // deb [options] uri suite [component...]
        const match = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
        if (match) {
            const signedBy = /(?:^|\s)signed-by=(\S+)/.exec(match[1] ?? "")?.[1];
            sources.push({
                uri: match[2],
                suites: [match[3]],
                components: match[4].split(/\s+/).filter(Boolean),
                signedBy,
                file,
            });
        }
    }
    return sources;
}

function deb822(file: string, text: string): AptSource[] {
    const sources: AptSource[] = [];
    const stanzas = text.split(/\n\s*\n/);
    for (const stanza of stanzas) {
        const fields = new Map<string, string>();
        let last = "";
        for (const line of stanza.split("\n")) {
            if (line.startsWith("#")) {
                continue;
            }
            if (/^\s/.test(line) && last) {
                fields.set(last, `${fields.get(last)} ${line.trim()}`);
                continue;
            }
            const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
            if (m) {
                last = m[1].toLowerCase();
                fields.set(last, m[2].trim());
            }
        }
        const types = (fields.get("types") ?? "").split(/\s+/);
        if (!types.includes("deb") || fields.get("enabled") === "no") {
            continue;
        }
        const words = (key: string) => (fields.get(key) ?? "").split(/\s+/).filter(Boolean);
        for (const uri of words("uris")) {
            sources.push({
                uri,
                suites: words("suites"),
                components: words("components"),
                signedBy: fields.get("signed-by"),
                file,
            });
        }
    }
    return sources;
}

/** Every enabled `deb` source of this machine. */
export function machineSources(etc = "/etc/apt"): AptSource[] {
    const files: string[] = [];
    if (existsSync(path.join(etc, "sources.list"))) {
        files.push(path.join(etc, "sources.list"));
    }
    const dir = path.join(etc, "sources.list.d");
    if (existsSync(dir)) {
        files.push(
            ...readdirSync(dir)
                .filter(f => f.endsWith(".list") || f.endsWith(".sources"))
                .sort()
                .map(f => path.join(dir, f)),
        );
    }
    return files.flatMap(file => {
        const text = readFileSync(file, "utf8");
        return file.endsWith(".sources") ? deb822(file, text) : oneLine(file, text);
    });
}

/** The Debian release this machine runs, by codename ("bookworm"), as /etc/os-release names it. */
export function machineSuite(osRelease = "/etc/os-release"): string {
    const codename = /^VERSION_CODENAME=(\S+)$/m.exec(
        existsSync(osRelease) ? readFileSync(osRelease, "utf8") : "",
    )?.[1];
    if (!codename) {
        throw new Error(`${osRelease} names no VERSION_CODENAME: the lab runs on Debian`);
    }
    return codename;
}

/**
 * This machine's Debian sources, moved to another release of the same archive: each source of the
 * machine's own suite (bookworm, bookworm-updates, bookworm-security) names `suite` instead (trixie,
 * trixie-updates, trixie-security), on the same mirror and with the same keyring. For the machine's
 * own suite they are its sources as they are.
 */
export function sourcesForSuite(suite: string, etc = "/etc/apt", own = machineSuite()): AptSource[] {
    const ours = (x: string) => x === own || x.startsWith(`${own}-`);
    return machineSources(etc)
        .filter(s => s.suites.some(ours))
        .map(s => ({ ...s, suites: s.suites.filter(ours).map(x => `${suite}${x.slice(own.length)}`) }));
}

/** Sources in apt's deb822 format, for a private sources file (`-o Dir::Etc::sourcelist=`). */
export function renderDeb822(sources: readonly AptSource[]): string {
    return sources
        .map(
            s =>
                `Types: deb\nURIs: ${s.uri}\nSuites: ${s.suites.join(" ")}\nComponents: ${s.components.join(" ")}` +
                `${s.signedBy ? `\nSigned-By: ${s.signedBy}` : ""}\n`,
        )
        .join("\n");
}

/** The mirror this machine installs Debian `suite` from (for debootstrap): its own suite's, for another release too. */
export function debianMirror(suite: string, etc = "/etc/apt"): string {
    const source = sourcesForSuite(suite, etc).find(s => s.suites.includes(suite) && s.components.includes("main"));
    if (!source) {
        throw new Error(
            `no enabled apt source for Debian ${suite} main in ${etc}/sources.list or ${etc}/sources.list.d; ` +
                "the lab builds its hosts from the machine's own Debian mirror",
        );
    }
    return source.uri;
}
