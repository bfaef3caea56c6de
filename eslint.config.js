// ESLint for the browser's scripts (static/js/): plain ES modules loaded by
// <script type="module">, no build step. `make jslint` runs it, and `make
// test` runs that. Beyond eslint's recommended set, rules that catch real
// mistakes, not matters of taste (layout is left alone).
import js from "@eslint/js";
import globals from "globals";

// Browser globals that are easy to use by accident: a misspelt or missing
// local `name`, `event` or `status` would silently mean window's.
const accidentalGlobals = [
  "blur", "close", "closed", "event", "find", "focus", "length", "name",
  "open", "origin", "parent", "print", "self", "status", "stop", "top",
];

export default [
  { ignores: ["node_modules/", ".venv/", ".cache/", "staticfiles/", "var/", "build/"] },
  js.configs.recommended,
  {
    files: ["static/js/**/*.js", "static/widget/**/*.js"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: globals.browser,
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "array-callback-return": "error",
      eqeqeq: ["error", "always"],
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-promise-executor-return": "error",
      "no-restricted-globals": ["error", ...accidentalGlobals],
      "no-self-compare": "error",
      "no-shadow": ["error", { builtinGlobals: false }],
      "no-template-curly-in-string": "error",
      "no-throw-literal": "error",
      "no-unmodified-loop-condition": "error",
      "no-unreachable-loop": "error",
      "no-unused-expressions": "error",
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "all" }],
      // A let or const read in its own scope before its line has run is a
      // TDZ error when the module loads. Function declarations are hoisted,
      // and a function body may name a later module variable.
      "no-use-before-define": ["error", { functions: false, classes: false, variables: false }],
      "no-var": "error",
      "prefer-const": "error",
    },
  },
  {
    // The widget's script on a library's page: a classic script (it reads
    // document.currentScript), so no import; the same rules otherwise.
    files: ["static/widget/**/*.js"],
    languageOptions: { sourceType: "script" },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
];
