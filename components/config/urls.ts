/**
 * What a package source's URL (a repository's base, a signing key) may hold beyond its form: no
 * credentials, and for a repository's base nothing the files and commands it goes into would read
 * as something else.
 */

/** Query parameters that carry a credential (GitLab's private_token, a signed URL's signature, ...). */
const CREDENTIAL_QUERY =
    /^(access_?token|private_?token|token|api_?key|key|password|passwd|secret|auth|sig|signature)$/i;

/**
 * Why a URL holds a credential, or undefined. A URL is written into the step's command text, which
 * Pulumi stores and logs in clear, and into the host's apt source or repository file.
 */
export function urlCredentialProblem(url: string): string | undefined {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        // Its form is another check's to report.
        return undefined;
    }
    const hint =
        "which would go into the step's command text (stored and logged in clear) and the host's source file; " +
        "give the hosts credentials through apt's auth.conf (/etc/apt/auth.conf.d/), or use a source that needs none";
    if (parsed.username !== "" || parsed.password !== "") {
        return `holds credentials (${parsed.password !== "" ? "user:password" : "a user or token"} before the host), ${hint}`;
    }
    const names = [...parsed.searchParams.keys()].filter(name => CREDENTIAL_QUERY.test(name));
    if (names.length > 0) {
        return `holds a credential in its query (${names.join(", ")}), ${hint}`;
    }
    return undefined;
}

/**
 * Why a repository's base URL cannot be used as one, or undefined: apt reads a `#` in a sources
 * line as a comment, and the rewrite of the vendor's release package (sed's `s#...#URL#`) reads
 * `#`, `&` and `\` as its own syntax; a base URL needs no query or fragment.
 */
export function repositoryBaseProblem(url: string): string | undefined {
    const found = [...new Set([...url].filter(ch => "?#&\\".includes(ch)))];
    return found.length > 0
        ? `holds ${found.map(ch => `"${ch}"`).join(", ")}: a repository's base URL takes no query or fragment, and apt and the ` +
              "rewrite of the release package's source would read them as a comment or their own syntax"
        : undefined;
}
