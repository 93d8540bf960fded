// README.md's doctor finding tables are made from the checks and the kinds table (npm run docs): this
// fails when they differ, and says how to bring them back in line.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CHECKS } from '../src/doctor/checks/registry.js';
import { beginMarker, findingTable, updateReadme } from '../src/doctor/docs.js';
import type { Check } from '../src/doctor/check.js';
import { PROJECT } from './helpers/gentoo.js';

const README = readFileSync(path.join(PROJECT, 'README.md'), 'utf8');

describe('README.md', () => {
  it('has the doctor finding tables of src/doctor/kinds.ts (run `npm run docs` after changing it)', () => {
    expect(updateReadme(README, CHECKS) === README, 'README.md differs from the kinds table: npm run docs').toBe(true);
  });

  it('every kind a check reports is a row of its table, with its level', () => {
    for (const check of CHECKS) {
      const table = findingTable(check);
      expect(
        table
          .split('\n')
          .slice(2)
          .map((row) => row.split(' | ')[0]),
      ).toEqual(check.kinds.map((k) => `| \`${k}\``));
      expect(README).toContain(`${beginMarker(check.id)}\n${table}\n<!-- /doctor-findings -->`);
    }
  });

  it('a changed summary, a check without a place or an unknown marker is caught', () => {
    const flags = CHECKS.find((c) => c.id === 'flags')!;
    const stale = README.replace(/(\| `kcflags-o3` \| warning \| )[^\n]*/, '$1an older summary |');
    expect(stale).not.toBe(README);
    expect(updateReadme(stale, CHECKS)).toBe(README);
    const extra: Check = { ...flags, id: 'not-in-readme' };
    expect(() => updateReadme(README, [...CHECKS, extra])).toThrow(/no place for the findings of not-in-readme/);
    expect(() =>
      updateReadme(
        README,
        CHECKS.filter((c) => c.id !== 'flags'),
      ),
    ).toThrow(/names 'flags', which is not/);
  });
});
