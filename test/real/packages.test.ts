/**
 * The real-tool checks fail naming a Debian package when a program is missing; CI installs the
 * packages .ci/debian-packages lists. Every package the checks name must be in that list.
 */
import { readFileSync } from "fs";
import * as path from "path";
import { FILE_PACKAGES, PHP_EXTENSION_PACKAGES, TOOL_PACKAGES, requireTool } from "./support";

const listed = readFileSync(path.resolve(__dirname, "../../.ci/debian-packages"), "utf8")
    .split("\n")
    .map(l => l.trim())
    .filter(l => l && !l.startsWith("#"));

test("every package the real-tool checks need is listed in .ci/debian-packages", () => {
    const needed = new Set([
        ...Object.values(TOOL_PACKAGES),
        ...Object.values(FILE_PACKAGES),
        ...Object.values(PHP_EXTENSION_PACKAGES),
    ]);
    expect([...needed].filter(pkg => !listed.includes(pkg))).toEqual([]);
});

test("a missing program fails naming the package to install", () => {
    expect(() => requireTool("no-such-program-zha")).toThrow(
        "no-such-program-zha not found: apt-get install --no-install-recommends (no package known",
    );
});
