/** Tests run the TypeScript sources directly through ts-jest; no build step. */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    // Pulumi's mock runtime is process-global state: one test file per worker keeps it isolated.
    maxWorkers: 2,
    // A plan makes real keys and certificates (openssl, tools/offline/tlsMock.ts): on a loaded 2-core
    // machine a test that plans several stacks outgrows jest's 5 s default. Not a speed target (bench is).
    testTimeout: 30_000,
};
