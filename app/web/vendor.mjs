// Copies the dashboard's browser libraries from node_modules/ into static/vendor/ and
// records what was copied in static/vendor/vendor.json: each package's version and its
// tarball's integrity (both from package-lock.json, which `npm ci` checked the download
// against) and the SHA-256 of every file copied. tests/web/test_assets.py checks the
// committed files against that record, so users never need Node or a build step.
//
//   npm ci && npm run vendor         # after changing a version in package.json
//   npm ci && npm run vendor:check   # the committed files are exactly the package's
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const VENDOR = join(HERE, "static", "vendor");
const MANIFEST = join(VENDOR, "vendor.json");

// package -> [file in the package, name in static/vendor/<package>/]
const FILES = {
  uplot: [
    ["dist/uPlot.iife.min.js", "uPlot.iife.min.js"],
    ["dist/uPlot.min.css", "uPlot.min.css"],
    ["LICENSE", "LICENSE"],
  ],
  "swagger-ui-dist": [
    ["swagger-ui-bundle.js", "swagger-ui-bundle.js"],
    ["swagger-ui.css", "swagger-ui.css"],
    ["LICENSE", "LICENSE"],
  ],
};

const sha256 = (path) => "sha256-" + createHash("sha256").update(readFileSync(path)).digest("base64");

function build() {
  const lock = JSON.parse(readFileSync(join(HERE, "package-lock.json"), "utf8"));
  const manifest = {};
  for (const [name, files] of Object.entries(FILES)) {
    const locked = lock.packages[`node_modules/${name}`];
    const installed = JSON.parse(readFileSync(join(HERE, "node_modules", name, "package.json"), "utf8"));
    if (!locked || installed.version !== locked.version) {
      throw new Error(`${name}: node_modules has ${installed.version}, the lock ${locked?.version}; run npm ci`);
    }
    const entry = { version: locked.version, integrity: locked.integrity, license: locked.license, files: {} };
    for (const [source, target] of files) {
      entry.files[target] = sha256(join(HERE, "node_modules", name, source));
    }
    manifest[name] = entry;
  }
  return manifest;
}

const manifest = build();
const text = JSON.stringify(manifest, null, 2) + "\n";
if (process.argv.includes("--check")) {
  const problems = [];
  if (readFileSync(MANIFEST, "utf8") !== text) problems.push("vendor.json differs from the lock");
  for (const [name, entry] of Object.entries(manifest)) {
    for (const [target, digest] of Object.entries(entry.files)) {
      if (sha256(join(VENDOR, name, target)) !== digest) problems.push(`${name}/${target} differs`);
    }
  }
  if (problems.length) {
    console.error("static/vendor is not what package-lock.json pins:\n  " + problems.join("\n  "));
    process.exit(1);
  }
  console.log("static/vendor matches package-lock.json");
} else {
  for (const [name, files] of Object.entries(FILES)) {
    mkdirSync(join(VENDOR, name), { recursive: true });
    for (const [source, target] of files) {
      copyFileSync(join(HERE, "node_modules", name, source), join(VENDOR, name, target));
    }
  }
  writeFileSync(MANIFEST, text);
  console.log(`copied ${Object.keys(FILES).join(", ")} into static/vendor/`);
}
