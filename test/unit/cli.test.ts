/**
 * The command lines of the preview, the bench and the lab, parsed without running anything: the
 * lab's commands are never executed here.
 */
import * as path from "path";
import { argumentsOrExit, readCommandLine } from "../../tools/cli";
import { parseBenchArgs } from "../../tools/bench/args";
import { USAGE as LAB_USAGE, parseLabArgs } from "../../tools/lab/args";
import { parsePreviewArgs } from "../../tools/preview/args";

describe("--help and -h answer with the usage, whatever the command", () => {
    test.each([
        ["preview", ["--help"], parsePreviewArgs],
        ["preview", ["--config", "Pulumi.prod.yaml", "-h"], parsePreviewArgs],
        ["bench", ["--help"], parseBenchArgs],
        ["lab", ["--help"], parseLabArgs],
        ["lab", ["-h"], parseLabArgs],
        ["lab up", ["up", "--help"], parseLabArgs],
        ["lab status", ["status", "--help"], parseLabArgs],
        ["lab down", ["down", "--help"], parseLabArgs],
        ["lab drill", ["drill", "--help"], parseLabArgs],
        ["lab drill with flags", ["drill", "--only", "server-crash", "-h"], parseLabArgs],
    ])("%s %j", (_tool, argv, parse) => {
        expect(readCommandLine(argv, parse as (argv: readonly string[]) => unknown)).toEqual({ kind: "help" });
    });
});

describe("an unknown flag, a missing value or an unknown command is a usage error", () => {
    test.each([
        ["preview", ["--cofig", "Pulumi.prod.yaml"], parsePreviewArgs, "unknown argument --cofig"],
        ["preview", ["--config"], parsePreviewArgs, "--config needs a value"],
        ["preview", ["--json", "--markdown", "x.md"], parsePreviewArgs, "--json needs a value"],
        ["bench", ["--sites", "50"], parseBenchArgs, "unknown argument --sites"],
        ["bench", ["--runs", "0"], parseBenchArgs, "--runs takes a whole number from 1"],
        ["lab", [], parseLabArgs, "no command given"],
        ["lab", ["start"], parseLabArgs, "unknown command start"],
        ["lab up", ["up", "--confg", "lab/Pulumi.lab.yaml"], parseLabArgs, "unknown argument --confg"],
        ["lab up", ["up", "--json", "x.json"], parseLabArgs, "--json does not apply to up"],
        ["lab up", ["up", "--jobs", "0"], parseLabArgs, "--jobs takes a whole number from 1"],
        ["lab status", ["status", "--verbose"], parseLabArgs, "unknown argument --verbose"],
        ["lab drill", ["drill", "--only"], parseLabArgs, "--only needs a value"],
        ["lab drill", ["drill", "--repeat"], parseLabArgs, "--repeat needs a value"],
        ...["0", "21", "2.5", "3e0", "0x3", "-1", "five"].map((n): [string, string[], typeof parseLabArgs, string] => [
            "lab drill",
            ["drill", "--repeat", n],
            parseLabArgs,
            `--repeat takes a whole number from 1 to 20 (runs of each drill), not ${n}`,
        ]),
        ["lab up", ["up", "--repeat", "3"], parseLabArgs, "--repeat does not apply to up"],
    ])("%s %j", (_tool, argv, parse, message) => {
        expect(readCommandLine(argv, parse as (argv: readonly string[]) => unknown)).toEqual({
            kind: "usage-error",
            message,
        });
    });
});

describe("what the commands run with", () => {
    test("the preview: the config resolved, and whether it was given", () => {
        expect(readCommandLine([], parsePreviewArgs)).toEqual({
            kind: "run",
            args: { config: path.resolve("Pulumi.prod.yaml"), explicitConfig: false },
        });
        expect(parsePreviewArgs(["--config", "Pulumi.prod.yaml", "--markdown", "r.md", "--json", "r.json"])).toEqual({
            config: path.resolve("Pulumi.prod.yaml"),
            explicitConfig: true,
            markdown: "r.md",
            json: "r.json",
        });
    });

    test("the lab: each command with its flags; --only repeats and lists", () => {
        expect(
            parseLabArgs(["up", "--config", "lab/Pulumi.lab.yaml", "--pattern", "standalone", "--jobs", "4"]),
        ).toEqual({ command: "up", config: "lab/Pulumi.lab.yaml", pattern: "standalone", jobs: 4 });
        expect(parseLabArgs(["status"])).toEqual({ command: "status" });
        expect(
            parseLabArgs(["drill", "--only", "server-crash,lb-crash", "--only", "site-isolation", "--json", "d.json"]),
        ).toEqual({ command: "drill", only: ["server-crash", "lb-crash", "site-isolation"], json: "d.json" });
        expect(parseLabArgs(["drill", "--only", "server-crash", "--repeat", "5"])).toEqual({
            command: "drill",
            only: ["server-crash"],
            repeat: 5,
        });
        expect(parseLabArgs(["drill", "--repeat", "1"]).repeat).toBe(1);
        expect(parseLabArgs(["drill", "--repeat", "20"]).repeat).toBe(20);
        expect(parseLabArgs(["drill"]).repeat).toBeUndefined();
    });
});

describe("argumentsOrExit prints and exits as a command line tool does", () => {
    let exit: jest.SpyInstance;
    let log: jest.SpyInstance;
    let error: jest.SpyInstance;
    beforeEach(() => {
        exit = jest.spyOn(process, "exit").mockImplementation(((code: number) => {
            throw new Error(`exit ${code}`);
        }) as never);
        log = jest.spyOn(console, "log").mockImplementation(() => undefined);
        error = jest.spyOn(console, "error").mockImplementation(() => undefined);
    });
    afterEach(() => jest.restoreAllMocks());

    test("--help: the usage on stdout, exit 0", () => {
        expect(() => argumentsOrExit(["drill", "--help"], LAB_USAGE, parseLabArgs)).toThrow("exit 0");
        expect(log).toHaveBeenCalledWith(LAB_USAGE);
        expect(error).not.toHaveBeenCalled();
    });

    test("an unknown flag: what is wrong and the usage on stderr, exit 2", () => {
        expect(() => argumentsOrExit(["drill", "--frobnicate"], LAB_USAGE, parseLabArgs)).toThrow("exit 2");
        expect(error).toHaveBeenCalledWith(`unknown argument --frobnicate\n${LAB_USAGE}`);
        expect(log).not.toHaveBeenCalled();
    });

    test("valid arguments: returned, nothing printed", () => {
        expect(argumentsOrExit(["down"], LAB_USAGE, parseLabArgs)).toEqual({ command: "down" });
        expect(exit).not.toHaveBeenCalled();
        expect(log).not.toHaveBeenCalled();
    });
});
