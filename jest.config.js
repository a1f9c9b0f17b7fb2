/** Tests run the TypeScript sources directly through ts-jest; no build step. */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    // Pulumi's mock runtime is process-global state: one test file per worker keeps it isolated.
    maxWorkers: 2,
};
