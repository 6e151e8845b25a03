// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".cache/", "reports/", ".stryker-tmp/", "eslint.config.js"] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "no-restricted-syntax": [
        "error",
        {
          selector: "Literal[value=/\\/_synapse\\/admin/]",
          message: "Only src/synapse/adminClient.ts may name /_synapse/admin paths.",
        },
      ],
    },
  },
  {
    // The homeserver simulator is the other side of those paths: it serves them.
    files: ["src/synapse/**", "test/**", "scripts/**", "bench/simulator/**"],
    rules: { "no-restricted-syntax": "off" },
  },
);
