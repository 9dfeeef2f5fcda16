// Bundles entry.js into ../../static/vendor/codemirror/codemirror.min.js (one IIFE, no eval,
// no inline script) and copies the MIT licences of every bundled package beside it.
import { build } from "esbuild";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const out = new URL("../../static/vendor/codemirror/", import.meta.url).pathname;
mkdirSync(out, { recursive: true });

await build({
  entryPoints: ["entry.js"],
  bundle: true,
  minify: true,
  format: "iife",
  globalName: "CM6",
  target: ["es2020"],
  legalComments: "none",
  outfile: join(out, "codemirror.min.js"),
});

// One LICENSES file naming each bundled package, its version and its licence text.
// Every installed package except the bundler itself ends up in the bundle.
const packages = [];
for (const entry of readdirSync("node_modules")) {
  if (entry.startsWith(".") || entry === "esbuild" || entry === "@esbuild") continue;
  if (!entry.startsWith("@")) { packages.push(entry); continue; }
  for (const name of readdirSync(join("node_modules", entry))) packages.push(`${entry}/${name}`);
}
const parts = packages.sort().map((name) => {
  const dir = join("node_modules", name);
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const licence = readFileSync(join(dir, "LICENSE"), "utf8").trim();
  return `${name}@${meta.version} (${meta.license})\n\n${licence}\n`;
});
writeFileSync(join(out, "LICENSES.txt"), parts.join("\n" + "-".repeat(72) + "\n\n"));
