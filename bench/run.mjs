#!/usr/bin/env node
// npm run bench: every performance figure of the project, each next to a baseline measured in the
// same run on the same machine, printed as a ratio (machines here are shared and noisy: absolute
// times mean little, ratios against a same-run baseline are comparable).
//
// Each file in bench/cases/ exports `default async function (ctx) -> Row[]` where
// Row = { figure, value, unit, baseline, baselineValue, goal? } and ratio = value / baselineValue.
// `node bench/run.mjs [name-filter]` runs the cases whose file name contains the filter.
// The result is printed as README.md's benchmark table (Markdown): figure, value, baseline with its
// value, ratio, goal.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const project = path.resolve(here, '..');
const filter = process.argv[2] ?? '';
const files = (await readdir(path.join(here, 'cases'))).filter((f) => f.endsWith('.mjs') && f.includes(filter)).sort();

const fmt = (v, unit) =>
  unit === 'MB'
    ? `${v.toFixed(1)} MB`
    : unit === 'us'
      ? `${v.toFixed(2)} µs`
      : unit === 'ms'
        ? `${v.toFixed(1)} ms`
        : `${v.toFixed(3)} ${unit}`;

process.stdout.write(
  `gentoo-kopt benchmarks on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), node ${process.version}, ${new Date().toISOString()}\n\n`,
);
const rows = [];
for (const file of files) {
  const mod = await import(pathToFileURL(path.join(here, 'cases', file)).href);
  process.stderr.write(`running ${file} ...\n`);
  try {
    for (const row of await mod.default({ project })) rows.push({ case: file.replace(/\.mjs$/, ''), ...row });
  } catch (err) {
    rows.push({
      case: file.replace(/\.mjs$/, ''),
      figure: `FAILED: ${err.message}`,
      value: NaN,
      unit: '',
      baseline: '',
      baselineValue: NaN,
    });
  }
}

const ratio = (r) => r.value / r.baselineValue;
const table = rows.map((r) => [
  r.figure,
  Number.isNaN(r.value) ? '-' : fmt(r.value, r.unit),
  Number.isNaN(r.baselineValue) ? r.baseline : `${r.baseline}: ${fmt(r.baselineValue, r.baselineUnit ?? r.unit)}`,
  Number.isNaN(ratio(r)) ? '-' : `${ratio(r).toFixed(ratio(r) < 0.1 ? 4 : 2)}x`,
  r.goal ?? '',
]);
// Markdown: `<vdb>` would be an HTML tag, `|` a new cell, `*` emphasis.
const line = (cells) => `| ${cells.map((c) => String(c).replace(/[<>|*]/g, '\\$&')).join(' | ')} |`;
const head = ['figure', 'value', 'baseline (same run)', 'ratio', 'goal'];
process.stdout.write([line(head), line(head.map(() => '---')), ...table.map(line)].join('\n') + '\n');
