// ESLint for the web client (flat config). Formatting is Prettier's job (eslint-config-prettier
// turns off every rule that would fight it); this file is about correctness:
// - src/ and vite.config.ts: typescript-eslint's type-checked recommended set (floating
//   promises, unsafe `any` flows, misused promises), React hooks rules for the components, and
//   `nats.ws` kept inside src/nats/ (style.md §4: one NATS module; everything else goes through
//   its connection and traced wrapper, so no publish or request escapes tracing).
// - e2e/: a separate npm package (own lock, own node_modules with Playwright); linted with the
//   rules that need no type information, so `./nats-chat check` does not have to install it.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

const kNatsOnly =
  "nats.ws is used only inside src/nats/ (the one connection and the traced wrapper); import from there.";

export default defineConfig(
  { ignores: ["dist/", "node_modules/", "e2e/node_modules/", "e2e/test-results/"] },
  js.configs.recommended,
  {
    files: ["src/**/*.{ts,tsx}", "vite.config.ts", "vite.apps.config.ts"],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.browser },
    },
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "nats.ws", message: kNatsOnly }],
          patterns: [{ group: ["nats.ws/*"], message: kNatsOnly }],
        },
      ],
      eqeqeq: ["error", "always"],
      // Off: `async` without `await` is how this code implements Promise-returning interfaces
      // (test fakes, delivery handlers); it also turns a throw into a rejection, which callers
      // that `void` the promise rely on.
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      // A `default:` counts as handling the rest: decoders map unknown values there on purpose.
      "@typescript-eslint/switch-exhaustiveness-check": [
        "error",
        { considerDefaultExhaustiveForUnions: true },
      ],
    },
  },
  {
    // The NATS module itself; and unit tests, which build nats.ws messages, headers and errors
    // for their fake connections.
    files: ["src/nats/**/*.ts", "src/**/*.test.ts"],
    rules: { "no-restricted-imports": "off" },
  },
  {
    files: ["src/**/*.tsx", "src/ui/**/*.ts"],
    extends: [reactHooks.configs.flat.recommended],
  },
  {
    files: ["vite.config.ts", "vite.apps.config.ts"],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ["e2e/**/*.ts"],
    extends: [tseslint.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { globals: { ...globals.node } },
  },
  prettier,
);
