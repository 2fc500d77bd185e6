// Scan Salesforce flow files offline with Lightning Flow Scanner and print JSON on stdout.
//
// Usage: node scan_flows.mjs RULES_CONFIG.json FLOW_FILE...
// Output: {"scanner": version, "rules": [...], "flows": [{file, name, type, parseError,
//          results: [{rule, label, severity, error, violations: [{name, metaType, type,
//          line}]}]}]}
// Exit 0 when the scan ran (whatever it found), 2 when the config or a rule name is bad.
// API: README and index.d.ts of @flow-scanner/lightning-flow-scanner-core 6.6.0:
// parse(paths) -> ParsedFlow[], scan(parsed, {rules, exceptions}) -> ScanResult[].
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const core = require("@flow-scanner/lightning-flow-scanner-core");
const { version } = require("@flow-scanner/lightning-flow-scanner-core/package.json");

function fail(message) {
  process.stdout.write(JSON.stringify({ error: message }) + "\n");
  process.exit(2);
}

const [configPath, ...files] = process.argv.slice(2);
if (!configPath) fail("usage: node scan_flows.mjs RULES_CONFIG.json FLOW_FILE...");

let config;
try {
  config = JSON.parse(readFileSync(configPath, "utf8"));
} catch (err) {
  fail(`cannot read the Flow Scanner rules config ${configPath}: ${err.message}`);
}
const ruleNames = Object.keys(config.rules ?? {});
if (ruleNames.length === 0) fail(`${configPath} has no "rules"; list the rules to run`);
// The core logs and skips rule names it does not know; a typo would silently disable a rule.
const known = new Set(core.getRules(undefined, { betaMode: true }).map((r) => r.name));
const unknown = ruleNames.filter((name) => !known.has(name));
if (unknown.length) {
  fail(`${configPath}: unknown Flow Scanner rule(s) ${unknown.join(", ")}; ` +
       `known rules: ${[...known].sort().join(", ")}`);
}

const parsed = await core.parse(files);
const byUri = new Map(core.scan(parsed, config).map((r) => [r.flow.uri, r]));
const flows = parsed.map((p) => {
  const result = byUri.get(p.uri);
  return {
    file: p.uri,
    name: p.flow?.name ?? null,
    type: p.flow?.type ?? null,
    parseError: p.errorMessage ?? (p.flow?.type ? null : "not a flow: no <Flow> root element"),
    results: (result?.ruleResults ?? [])
      .filter((r) => r.occurs || r.errorMessage)
      .map((r) => ({
        rule: r.ruleName,
        label: r.ruleDefinition.label,
        severity: r.severity,
        error: r.errorMessage ?? null,
        violations: r.details.map((v) => ({
          name: v.name, metaType: v.metaType, type: v.type, line: v.lineNumber,
        })),
      })),
  };
});
process.stdout.write(JSON.stringify({ scanner: version, rules: ruleNames, flows }) + "\n");
