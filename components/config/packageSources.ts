/**
 * A package source's URL and an extra apt source, as the zabbix and db sections name them.
 */
import { Reader } from "./reader";
import { AptRepository } from "./types";
import { repositoryBaseProblem, urlCredentialProblem } from "./urls";

/**
 * What only https may carry: a trust anchor (an apt key, against which apt checks every signature
 * of its repository), and the vendor's repository, whose release package (the repository's key
 * inside) the package step installs with dpkg/rpm, as root, once its pinned SHA-256 matches. Over
 * http a machine in the middle could replace either. A repository checked against an https key may
 * itself be http (apt verifies it).
 */
export const HTTPS_URL = /^https:\/\/[^\s'"]+$/;

/** An extra apt source; a signing key is required unless it is a local repository marked trusted. */
export function readAptRepository(r: Reader, value: unknown, path: string): AptRepository | undefined {
    const node = r.object(value, path, ["url", "suite", "components", "keyUrl", "trusted"]);
    if (!node) {
        return undefined;
    }
    const url = r.string(node, "url", path);
    const suite = r.string(node, "suite", path);
    const keyUrl = r.string(node, "keyUrl", path, "");
    const trusted = r.boolean(node, "trusted", path, false);
    const rawComponents = node.components ?? (suite?.endsWith("/") ? [] : ["main"]);
    const components =
        Array.isArray(rawComponents) && rawComponents.every(c => typeof c === "string" && /^[a-z0-9./_-]+$/i.test(c))
            ? (rawComponents as string[])
            : undefined;
    if (!components) {
        r.problem(`${path}.components`, "expected a list of component names, e.g. [main]");
    }
    const before = r.problemCount();
    if (url !== undefined) {
        const form = /^(https?:\/\/|file:\/)[^\s'"\][]+$/.test(url) ? undefined : "an http(s) or file: URL";
        checkSourceUrl(r, `${path}.url`, url, form, true);
    }
    if (suite !== undefined && !/^[A-Za-z0-9./_-]+$/.test(suite)) {
        r.problem(`${path}.suite`, `"${suite}" is not a suite name (e.g. bookworm-pgdg) or ./ for a flat repository`);
    }
    if (keyUrl) {
        checkSourceUrl(
            r,
            `${path}.keyUrl`,
            keyUrl,
            HTTPS_URL.test(keyUrl)
                ? undefined
                : "an https URL (the key apt checks the repository's signatures against; over http a machine in the middle could replace it)",
            false,
        );
    }
    if (trusted && url !== undefined && !url.startsWith("file:")) {
        r.problem(
            `${path}.trusted`,
            "only a local file: repository may go unsigned; give keyUrl for one reached over the network",
        );
    }
    if (!trusted && !keyUrl) {
        r.problem(
            `${path}.keyUrl`,
            "is required: apt checks the repository's signatures against this key (trusted: true is for a local file: repository only)",
        );
    }
    if (url === undefined || suite === undefined || !components || trusted === undefined || r.problemCount() > before) {
        return undefined;
    }
    return { url: url.replace(/\/+$/, ""), suite, components, keyUrl: keyUrl || undefined, trusted };
}

/**
 * A package source's URL: first no credentials (that message never repeats the URL), then its form
 * (`notA` says what it is not, when it is not), then for a repository's base nothing apt or sed would misread.
 */
export function checkSourceUrl(
    r: Reader,
    path: string,
    url: string,
    notA: string | undefined,
    repositoryBase: boolean,
): void {
    const credentials = urlCredentialProblem(url);
    if (credentials) {
        r.problem(path, credentials);
    } else if (notA) {
        r.problem(path, `"${url}" is not ${notA}`);
    } else if (repositoryBase && repositoryBaseProblem(url)) {
        r.problem(path, repositoryBaseProblem(url)!);
    }
}
