// resources: full LTO needs memory (linking a full-LTO kernel peaks above 10 GB; "16 GB" machines show a
// MemTotal of about 15 GiB), and LTO on a 32-bit system can exceed what a 32-bit link can address (the
// wiki). Memory is read from ${ROOT}/proc/meminfo when the root has one (a chroot), else from this
// machine's /proc/meminfo, which is also where an `emerge --root` build runs; the finding says which.
import path from 'node:path';
import { readOptional } from '../../system/read.js';
import { finding, SkipCheck, type Finding } from '../finding.js';
import type { DoctorContext } from '../context.js';
import type { Check } from '../check.js';

const LOW_MEMORY_KIB = 15 * 1024 * 1024;
const HEAVY_LTO = new Set(['full']);
/** CHOSTs of 32-bit systems (the first field of the GNU triplet). */
const CHOST_32 = /^(i[3-6]86|arm(?!64)[a-z0-9]*|mips(el)?|powerpc|sparc|m68k|hppa[0-9.]*|s390|or1k|sh[0-9a-z]*)-/;
const ARCH_32 = new Set(['ia32', 'arm', 'mips', 'mipsel', 'ppc', 's390']);

async function meminfo(ctx: DoctorContext): Promise<{ kib: number; file: string; source: string } | undefined> {
  const inRoot = path.join(ctx.roots.root, 'proc/meminfo');
  const candidates: [string, string][] = ctx.options.meminfo
    ? [[ctx.options.meminfo, ctx.options.meminfo]]
    : ctx.roots.root === '/'
      ? [['/proc/meminfo', 'this machine']]
      : [
          [inRoot, `the root's proc/meminfo`],
          ['/proc/meminfo', `this machine's, where an emerge --root ${ctx.roots.root} build runs`],
        ];
  for (const [file, source] of candidates) {
    // Bounded: a meminfo that is a FIFO or /dev/zero (in a chroot's proc/) is no answer, not a hang.
    const text = await readOptional(file, 'proc').then(
      (b) => b?.toString('utf8'),
      () => undefined,
    );
    const m = text && /^MemTotal:[ \t]+(\d{1,15})[ \t]*kB/m.exec(text);
    if (m) return { kib: Number(m[1]), file, source };
  }
  return undefined;
}

export const resources: Check = {
  id: 'resources',
  describe: 'LTO fits the machine: full LTO with less than ~16 GB of RAM, LTO on a 32-bit system',
  kinds: ['lto-low-memory', 'lto-32bit'],
  async run(ctx) {
    const config = await ctx.config();
    const ltos = new Set<string>();
    for (const cpn of config.global.packages) ltos.add((await ctx.settings(cpn)).lto);
    ltos.delete('none');
    if (ltos.size === 0) throw new SkipCheck('lto = none: there is no LTO link to size');
    const lto = [...ltos].sort().join(', ');
    const out: Finding[] = [];
    const chost = await ctx.makeConf().then(
      (m) => m.vars.get('CHOST'),
      () => undefined,
    );
    if (chost && CHOST_32.test(chost.value))
      out.push(finding('lto-32bit', { file: chost.file, line: chost.line }, { lto, chost: chost.value }));
    else if (!chost && ctx.roots.root === '/' && ARCH_32.has(process.arch))
      out.push(finding('lto-32bit', {}, { lto, chost: `this machine (${process.arch})` }));
    const heavy = [...ltos].filter((l) => HEAVY_LTO.has(l));
    if (heavy.length) {
      const mem = await meminfo(ctx);
      if (!mem && out.length === 0) throw new SkipCheck('no readable /proc/meminfo: memory unknown');
      if (mem && mem.kib < LOW_MEMORY_KIB)
        out.push(
          finding(
            'lto-low-memory',
            { file: mem.file },
            { lto: heavy.join(', '), memMiB: Math.round(mem.kib / 1024), source: mem.source },
          ),
        );
    }
    return out;
  },
};
