// ESLint for the TypeScript sources: typescript-eslint's recommended rules, plus the few below, each
// for a mistake this code base can make. The formatting itself is Prettier's (`npm run lint` runs both).
import eslint from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["bin/**", "node_modules/**", "coverage/**"] },
    eslint.configs.recommended,
    tseslint.configs.recommended,
    { files: ["**/*.js", "**/*.mjs"], languageOptions: { globals: globals.node } },
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { project: "./tsconfig.lint.json", tsconfigRootDir: import.meta.dirname } },
        rules: {
            // A promise nobody awaits is a lab step or a drill's fault that runs on after its test.
            "@typescript-eslint/no-floating-promises": "error",
            // An async function passed where a callback's result is ignored (forEach, setTimeout) loses its errors.
            "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
            // `==` between config values and numbers hides a type mix-up.
            eqeqeq: ["error", "always"],
            "prefer-const": "error",
            // Only errors are thrown: callers read `.message` and the config path in it.
            "@typescript-eslint/only-throw-error": "error",
            // `_`-prefixed names say "unused on purpose" (callbacks with a fixed signature).
            "@typescript-eslint/no-unused-vars": [
                "error",
                { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
            ],
        },
    },
    {
        // Tests build raw configs as the YAML would hold them, valid or deliberately not: untyped on purpose.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
