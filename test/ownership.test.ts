// The one decision every owner makes (src/system/ownership.ts), one line per case, and the ledger's
// file format (src/system/ledger.ts): stable text, read back as written.
import { describe, it, expect } from 'vitest';
import { decide, label, NOT_REGULAR, STATES, type Current, type State } from '../src/system/ownership.js';
import { parseLedger, serializeLedger, type Ledger } from '../src/system/ledger.js';
import { sha256 } from '../src/system/fs.js';

const OURS = Buffer.from('as gentoo-kopt wrote it\n');
const NEW = Buffer.from('what it wants now\n');
const EDIT = Buffer.from('edited by the user\n');
const REC = sha256(OURS);

type Row = [
  what: string,
  current: Current,
  desired: Buffer | undefined,
  recorded: string | undefined,
  flags: string,
  want: State,
];
describe('decide: (what is there, what is wanted, what was recorded, --force, editable) -> state', () => {
  it.each<Row>([
    ['nothing there, not recorded', undefined, NEW, undefined, '', 'create'],
    ['nothing there, recorded', undefined, NEW, REC, '', 'restore'],
    ['ours as written', OURS, NEW, REC, '', 'update'],
    ['already the wanted bytes', NEW, NEW, REC, '', 'unchanged'],
    ['the wanted bytes, but not recorded: not ours', NEW, NEW, undefined, 'force', 'conflict'],
    ['a file the user put there', EDIT, NEW, undefined, 'force', 'conflict'],
    ['a link or directory where ours was', NOT_REGULAR, NEW, REC, 'force', 'conflict'],
    ['edited, editable', EDIT, NEW, REC, 'editable', 'kept-edited'],
    ['edited, editable, --force', EDIT, NEW, REC, 'editable force', 'replace-edited'],
    ['edited, generated', EDIT, NEW, REC, '', 'replace-edited'],
    ['no longer wanted, as written', OURS, undefined, REC, 'editable', 'remove'],
    ['no longer wanted, edited, editable', EDIT, undefined, REC, 'editable', 'kept-stale'],
    ['no longer wanted, edited, editable, --force', EDIT, undefined, REC, 'editable force', 'remove'],
    ['no longer wanted, edited, generated', EDIT, undefined, REC, '', 'remove'],
    ['no longer wanted, gone', undefined, undefined, REC, 'editable', 'forget'],
    ['no longer wanted, a directory there now', NOT_REGULAR, undefined, REC, 'editable force', 'forget'],
  ])('%s', (_what, current, desired, recorded, flags, want) => {
    const force = flags.includes('force');
    const editable = flags.includes('editable');
    expect(decide({ current, desired, recorded, force, editable })).toBe(want);
  });

  it('one word for every state, a note where the user must look', () => {
    expect(label('kept-edited')).toBe('KEEP (edited by you)');
    expect(label('create')).toBe('install');
    for (const s of Object.keys(STATES) as State[]) expect(label(s)).toMatch(/^\S+/);
  });
});

describe('the ledger file', () => {
  const sha = (c: string): string => sha256(c);
  const patch = 'etc/portage/patches/sys-kernel/gentoo-kernel-6.12.58/00-gentoo-kopt-1-s-01-a.patch';
  const l: Ledger = {
    patches: {
      files: [
        { path: patch, target: 'sys-kernel/gentoo-kernel-6.12.58', series: 's', entry: '6.12', sha256: sha('a') },
      ],
      dirs: ['etc'],
      created: [],
    },
    hooks: {
      files: [
        { path: 'etc/kernel/config.d/50-gentoo-kopt-lto.config', sha256: sha('f'), role: 'lto-fragment' },
        { path: 'etc/gentoo-kopt/hook-settings', sha256: sha('s'), role: 'settings' },
      ],
      dirs: ['etc/kernel/config.d', 'etc', 'etc'],
      created: ['etc/portage/bashrc'],
    },
    init: { files: [], dirs: [], created: [] },
    pgo: { files: [], dirs: [], created: [] },
  };

  it('is sorted, one order of fields, each directory once, and reads back as written', () => {
    const text = serializeLedger(l)!;
    expect(JSON.parse(text)).toEqual({
      format: 1,
      hooks: {
        files: [l.hooks.files[1], l.hooks.files[0]],
        dirs: ['etc', 'etc/kernel/config.d'],
        created: ['etc/portage/bashrc'],
      },
      patches: { files: l.patches.files, dirs: ['etc'], created: [] },
    });
    expect(Object.keys(JSON.parse(text).patches.files[0])).toEqual(['path', 'sha256', 'entry', 'series', 'target']);
    expect(serializeLedger(parseLedger(text, 'ledger.json'))).toBe(text);
    const reversed = {
      ...l,
      hooks: { ...l.hooks, files: [...l.hooks.files].reverse(), dirs: [...l.hooks.dirs].reverse() },
    };
    expect(serializeLedger(reversed)).toBe(text);
  });

  it('an owner with nothing is left out, and an empty ledger is no file at all', () => {
    expect(Object.keys(JSON.parse(serializeLedger({ ...l, patches: { files: [], dirs: [], created: [] } })!))).toEqual([
      'format',
      'hooks',
    ]);
    expect(serializeLedger(parseLedger('{"format": 1}', 'ledger.json'))).toBeUndefined();
  });
});
