// Writes a benchmark's section into docs/benchmarks.md, between its markers
// (`<!-- NAME:start -->` and `<!-- NAME:end -->`), replacing what was there, or at the end.
import { readFileSync, writeFileSync } from "node:fs";

export function writeSection(name, body) {
  const path = "../docs/benchmarks.md";
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${start}\n${body}\n${end}`;
  const existing = readFileSync(path, "utf8");
  const a = existing.indexOf(start);
  const b = existing.indexOf(end);
  writeFileSync(path, a >= 0 && b >= 0 ? existing.slice(0, a) + section + existing.slice(b + end.length) : `${existing.trimEnd()}\n\n${section}\n`);
}
