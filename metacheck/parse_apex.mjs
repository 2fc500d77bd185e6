// Parse Apex class and trigger files offline with @apexdevtools/apex-parser; print JSON.
//
// Usage: node parse_apex.mjs FILE...   (.cls: compilationUnit, .trigger: triggerUnit)
// Output: {"parser": version, "files": [{file, errors: [{line, column, message}]}]}
// Exit 0 when every file was read (whatever it found), 2 when a file cannot be read.
// API: the package README (5.2.0): ApexParserFactory.createLexerAndParser(source, listener)
// reports lexer and parser errors to one ApexErrorListener.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const { ApexParserFactory, ApexErrorListener } = require("@apexdevtools/apex-parser");
// package.json is not in the package's exports map: read it beside the resolved entry point.
const entry = require.resolve("@apexdevtools/apex-parser");
const { version } = JSON.parse(
  readFileSync(join(entry.slice(0, entry.lastIndexOf("/dist/")), "package.json"), "utf8"));

class Collect extends ApexErrorListener {
  constructor() {
    super();
    this.errors = [];
  }
  apexSyntaxError(line, column, message) {
    this.errors.push({ line, column, message });
  }
}

const files = [];
for (const file of process.argv.slice(2)) {
  let source;
  try {
    source = readFileSync(file, "utf8");
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: `cannot read ${file}: ${err.message}` }) + "\n");
    process.exit(2);
  }
  const listener = new Collect();
  const { parser } = ApexParserFactory.createLexerAndParser(source, listener);
  if (file.endsWith(".trigger")) parser.triggerUnit();
  else parser.compilationUnit();
  files.push({ file, errors: listener.errors });
}
process.stdout.write(JSON.stringify({ parser: version, files }) + "\n");
