#!/usr/bin/env node
// npm run demo: copies the sandbox Gentoo root in examples/sandbox to a temp dir and runs gentoo-kopt
// against it as a user would, printing each command and what it said. Nothing outside the temp dir
// is touched. Needs the build (npm run demo builds first).
import { cp, mkdtemp, rm, writeFile, mkdir, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const project = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(project, 'dist/bin.js');
const root = await mkdtemp(path.join(os.tmpdir(), 'gentoo-kopt-demo-'));
const bold = (s) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s);

async function say(title) {
  process.stdout.write(`\n${bold(`=== ${title}`)}\n`);
}

async function kopt(...args) {
  const maxLines = typeof args.at(-1) === 'number' ? args.pop() : Infinity;
  process.stdout.write(`${bold('$ gentoo-kopt ' + args.join(' '))}\n`);
  const r = await execa(process.execPath, [bin, ...args, '--root', root], { reject: false, env: { NO_COLOR: '1' } });
  let text = [r.stdout, r.stderr].filter(Boolean).join('\n');
  const lines = text.split('\n');
  if (lines.length > maxLines) text = [...lines.slice(0, maxLines), `... (${lines.length - maxLines} more lines of diff)`].join('\n');
  process.stdout.write(text.replace(/^/gm, '  ') + `\n  (exit status ${r.exitCode})\n`);
  return r;
}

async function tree(dir) {
  const base = path.join(root, dir);
  const lines = [];
  async function walk(rel) {
    const entries = await readdir(path.join(base, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else lines.push(`  ${dir}/${r}`);
    }
  }
  await walk('');
  process.stdout.write(lines.join('\n') + '\n');
}

try {
  await cp(path.join(project, 'examples/sandbox'), root, { recursive: true });
  // The two files that name absolute paths are written here, for this temp root.
  await mkdir(path.join(root, 'etc/portage/repos.conf'), { recursive: true });
  await writeFile(
    path.join(root, 'etc/portage/repos.conf/gentoo.conf'),
    `[DEFAULT]\nmain-repo = gentoo\n\n[gentoo]\nlocation = ${root}/var/db/repos/gentoo\n`,
  );
  await mkdir(path.join(root, 'etc/gentoo-kopt'), { recursive: true });
  const conf = (await readFile(path.join(project, 'examples/kopt.conf'), 'utf8')).replaceAll('@PROJECT@', project);
  await writeFile(path.join(root, 'etc/gentoo-kopt/kopt.conf'), conf);

  process.stdout.write(`gentoo-kopt demo: a sandbox Gentoo root in ${root}\n`);
  process.stdout.write('It has gentoo-kernel 6.12.58 and 6.12.59 and vanilla-kernel 6.18.2 installed, a repository\n');
  process.stdout.write('offering newer versions, the example series "kopt-demo" configured, and patches of the user\'s own.\n');
  await say('kopt.conf');
  process.stdout.write(conf.replace(/^/gm, '  '));
  await say('The user\'s own patches before (they must survive everything below)');
  await tree('etc/portage/patches');

  await say('1. What would sync-patches do? (--pretend writes nothing)');
  await kopt('sync-patches', '--pretend', 70);
  await say('2. Do it');
  await kopt('sync-patches');
  await tree('etc/portage/patches');
  await say('3. Run it again: nothing changed, so nothing to do');
  await kopt('sync-patches');
  await say('4. What will the next emerge of gentoo-kernel-6.12.58 apply, and from where?');
  await kopt('patches', 'list', 'sys-kernel/gentoo-kernel-6.12.58');

  await say('5. A kernel bump: gentoo-kernel-6.12.61 lands in the repository; 6.12.58 is removed (depclean)');
  const repo = path.join(root, 'var/db/repos/gentoo/sys-kernel/gentoo-kernel');
  await writeFile(path.join(repo, 'gentoo-kernel-6.12.61.ebuild'), 'EAPI=8\nSLOT="${PV}"\n');
  await rm(path.join(root, 'var/db/pkg/sys-kernel/gentoo-kernel-6.12.58'), { recursive: true });
  await kopt('sync-patches');
  await tree('etc/portage/patches');
  await say('6. Changed your mind? Roll the last transaction back');
  await kopt('rollback');
  await tree('etc/portage/patches');
} finally {
  if (!process.env.KEEP_DEMO_ROOT) await rm(root, { recursive: true, force: true });
  else process.stdout.write(`\n(sandbox kept in ${root})\n`);
}
