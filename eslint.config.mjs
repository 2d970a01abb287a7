// ESLint for the dashboard's scripts (app/web/static/js: ES modules run by the browser,
// no build step). `make lint` runs it; package-lock.json pins the version.
//
// Beyond the recommended rules, two house rules hold from now on (STYLE.md, front end):
// DOM is built with <template> and textContent, never by parsing HTML strings, and colours
// are read from app.css's custom properties, never written in a script.
import js from "@eslint/js";
import globals from "globals";

const NO_HTML = "build DOM with a <template> or document.createElement and textContent (see compare-page.js)";
const NO_COLOUR = "read colours from app.css's custom properties (theme.js's cssVar), not from a literal";

export default [
  js.configs.recommended,
  {
    files: ["app/web/static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: NO_HTML },
        { property: "outerHTML", message: NO_HTML },
        { property: "insertAdjacentHTML", message: NO_HTML },
        { property: "createContextualFragment", message: NO_HTML },
        { object: "document", property: "write", message: NO_HTML },
        { object: "document", property: "writeln", message: NO_HTML },
      ],
      "no-restricted-syntax": [
        "error",
        // el["innerHTML"] = ..., el[name] = ... where name is computed: caught by name only.
        { selector: "MemberExpression[computed=true][property.value=/^(innerHTML|outerHTML|insertAdjacentHTML)$/]", message: NO_HTML },
        { selector: "Literal[value=/^\\s*(#[0-9a-fA-F]{3,8}|rgba?\\(.*|hsla?\\(.*)\\s*$/]", message: NO_COLOUR },
        { selector: "TemplateElement[value.raw=/^\\s*(#[0-9a-fA-F]{3,8}|rgba?\\(.*|hsla?\\(.*)\\s*$/]", message: NO_COLOUR },
      ],
    },
  },
  {
    files: ["eslint.config.mjs"],
    languageOptions: { globals: { ...globals.node } },
  },
];
