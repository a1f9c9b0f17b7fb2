import * as random from "@pulumi/random";
import { capturePlan } from "../../tools/offline/capture";

const OPTIONS = { config: {}, stack: "test" };
const RANDOM = "random:index/randomPassword:RandomPassword";

test("a program that yields between declarations is captured whole, with its dependencies", async () => {
    const plan = await capturePlan(async () => {
        const first = new random.RandomPassword("first", { length: 24 });
        await new Promise(resolve => setImmediate(resolve));
        const second = new random.RandomPassword("second", { length: 24 }, { dependsOn: [first] });
        await new Promise(resolve => setImmediate(resolve));
        return { lengths: [24, 24], names: ["first", "second"], second: second.length };
    }, OPTIONS);
    expect(plan.error).toBeUndefined();
    expect(plan.resources.filter(r => r.type === RANDOM).map(r => r.name)).toEqual(["first", "second"]);
    const second = plan.resources.find(r => r.name === "second")!;
    expect(second.dependsOn).toContain(`${RANDOM}::first`);
    expect(second.outputs.result).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(plan.outputs).toEqual({ lengths: [24, 24], names: ["first", "second"], second: 24 });
});

test("a failing program's error keeps its stack, and the stack trace depth is restored", async () => {
    const depth = Error.stackTraceLimit;
    function declareThenFail(): never {
        new random.RandomPassword("before-the-error", { length: 24 });
        throw new Error("the program failed");
    }
    const plan = await capturePlan(declareThenFail, OPTIONS);
    expect(plan.error?.message).toBe("the program failed");
    expect(plan.error?.stack).toContain("declareThenFail");
    expect(plan.resources.map(r => r.name)).toContain("before-the-error");
    expect(Error.stackTraceLimit).toBe(depth);
});
