#!/usr/bin/env node
// npm run demo: copies the sandbox Gentoo root in examples/sandbox to a temp dir and runs gentoo-kopt
// against it as a user would, printing each command and what it said. Nothing outside the temp dir
// is touched. Needs the build (npm run demo builds first).
import { cp, mkdtemp, rm, writeFile, mkdir, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { execa } from 'execa';
import { emerge } from './portage-sim/emerge.mjs';

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
  if (lines.length > maxLines)
    text = [...lines.slice(0, maxLines), `... (${lines.length - maxLines} more lines of diff)`].join('\n');
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
  process.stdout.write(
    'offering newer versions, LLVM 20 (and an incomplete LLVM 21), the example series "kopt-demo"\n',
  );
  process.stdout.write("configured, and patches of the user's own.\n");
  await say('kopt.conf');
  process.stdout.write(conf.replace(/^/gm, '  '));
  await say("The user's own patches before (they must survive everything below)");
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

  await say('7. Install the emerge hook: a marked block in etc/portage/bashrc, the hook, its compiled settings');
  await writeFile(path.join(root, 'etc/portage/bashrc'), "# the user's own bashrc\nexport MY_OWN_SETTING=1\n");
  await kopt('hooks', 'install');
  process.stdout.write(
    `  etc/portage/bashrc is now:\n${(await readFile(path.join(root, 'etc/portage/bashrc'), 'utf8')).trimEnd().replace(/^/gm, '    ')}\n`,
  );
  await kopt('hooks', 'status');

  const WATCH = ['KCFLAGS', 'LLVM', 'LLVM_IAS', 'CC', 'LD', 'AR', 'HOSTCC', 'HOSTLD', 'MY_OWN_SETTING'];
  const show = async (title, pkg) => {
    await say(title);
    const phases = await emerge(root, pkg, WATCH);
    for (const p of phases) {
      for (const m of p.messages) process.stdout.write(`  ${p.phase.padEnd(9)} ${m}\n`);
      const seen = WATCH.filter((v) => p.vars[v] !== undefined).map((v) => `${v}=${p.vars[v].replace(root, '<root>')}`);
      process.stdout.write(
        `  ${p.phase.padEnd(9)} exit ${p.status}; exported: ${seen.join(' ') || '(none of the watched variables)'}\n`,
      );
    }
  };
  await show('8. A simulated emerge of sys-kernel/gentoo-kernel-6.12.61 (toolchain = llvm): what every phase saw', {
    category: 'sys-kernel',
    pn: 'gentoo-kernel',
    pv: '6.12.61',
  });
  await show('9. ... of sys-kernel/vanilla-kernel-6.18.3 (toolchain = gnu in its section)', {
    category: 'sys-kernel',
    pn: 'vanilla-kernel',
    pv: '6.18.3',
  });
  await show('10. ... of app-misc/hello-2.12: the hook is not even read', {
    category: 'app-misc',
    pn: 'hello',
    pv: '2.12',
  });
  await show('11. ... of sys-kernel/gentoo-kernel-bin-6.12.58: prebuilt, nothing to do', {
    category: 'sys-kernel',
    pn: 'gentoo-kernel-bin',
    pv: '6.12.58',
  });

  await say('12. Know before emerge: dry-run a series against a kernel tarball (streamed, nothing unpacked)');
  const tarball = path.join(root, 'var/cache/distfiles/linux-6.12.tar.xz');
  await mkdir(path.dirname(tarball), { recursive: true });
  await execa('tar', [
    '-cJf',
    tarball,
    '-C',
    path.join(project, 'examples/demo-kernel'),
    '--transform',
    's,^linux-6.12.58,linux-6.12,',
    'linux-6.12.58',
  ]);
  await kopt('verify', '--tarball', tarball, '--patches', path.join(project, 'patches/example/kopt-demo/6.12'));
  process.stdout.write("  ... and the 6.18 entry's patches against the same 6.12 sources:\n");
  await kopt('verify', '--tarball', tarball, '--patches', path.join(project, 'patches/example/kopt-demo/6.18'));

  await say('13. Is everything sound? gentoo-kopt doctor (read-only)');
  await kopt('sync-patches');
  await kopt('doctor');
  await say('14. The same as JSON lines, for scripts (one check)');
  await kopt('doctor', '--json', '--check', 'patches');

  // pgo: the wiki's gcov recipe for a dist-kernel, on a tiny real gcov tree (examples/pgo-gcov/README.md).
  await say("15. Profile-guided kernels: gentoo-kopt pgo (gcov is GCC's: gentoo-kernel has toolchain = llvm here)");
  await kopt('pgo', 'instrument', '--package', 'sys-kernel/gentoo-kernel');
  await kopt('pgo', 'instrument', '--package', 'sys-kernel/vanilla-kernel');
  await say('16. After booting the instrumented kernel and working a while: collect the profile from debugfs');
  process.stdout.write('  (here from a copy: three .gcda files a 6.1.192 kernel wrote, examples/pgo-gcov)\n');
  await kopt(
    'pgo',
    'collect',
    '--from',
    path.join(project, 'examples/pgo-gcov'),
    '--package',
    'sys-kernel/vanilla-kernel-6.1.192',
  );
  await kopt('pgo', 'use', '--package', 'sys-kernel/vanilla-kernel');
  await kopt('pgo', 'status');
  await show('17. A simulated emerge of sys-kernel/vanilla-kernel-6.1.192: the hook adds the profile', {
    category: 'sys-kernel',
    pn: 'vanilla-kernel',
    pv: '6.1.192',
  });
  await show('18. ... and of vanilla-kernel-6.18.3: another version, so no profile (the hook says why)', {
    category: 'sys-kernel',
    pn: 'vanilla-kernel',
    pv: '6.18.3',
  });

  // A second sandbox, as on a machine where gentoo-kopt was just installed: no kopt.conf yet.
  const fresh = await mkdtemp(path.join(os.tmpdir(), 'gentoo-kopt-demo-fresh-'));
  const server = http.createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    const data = rel.split('/').includes('..')
      ? undefined
      : await readFile(path.join(project, 'patches/example', rel)).catch(() => undefined);
    if (!data) return void res.writeHead(404).end('not found\n');
    res.writeHead(200, { 'Content-Length': data.length }).end(data);
  });
  try {
    await cp(path.join(project, 'examples/sandbox'), fresh, { recursive: true });
    await mkdir(path.join(fresh, 'etc/portage/repos.conf'), { recursive: true });
    await writeFile(
      path.join(fresh, 'etc/portage/repos.conf/gentoo.conf'),
      `[DEFAULT]\nmain-repo = gentoo\n\n[gentoo]\nlocation = ${fresh}/var/db/repos/gentoo\n`,
    );
    const inFresh = async (...args) => {
      process.stdout.write(`${bold('$ gentoo-kopt ' + args.join(' '))}\n`);
      const r = await execa(process.execPath, [bin, ...args, '--root', fresh], {
        reject: false,
        env: { NO_COLOR: '1', PATH: process.env.PATH },
      });
      const text = [r.stdout, r.stderr].filter(Boolean).join('\n');
      process.stdout.write(text.replace(/^/gm, '  ') + `\n  (exit status ${r.exitCode})\n`);
      return r;
    };
    await say('19. First run on a fresh system: gentoo-kopt init writes a kopt.conf from what is installed');
    await inFresh('init', '--pretend');
    await inFresh('init');
    await inFresh('init');

    await say("20. gentoo-kopt fetch: the series files from the catalog entry's origin, as Portage fetches distfiles");
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${server.address().port}/`;
    const shipped = await readFile(path.join(project, 'patches/catalog.ini'), 'utf8');
    const files = shipped
      .split('[kopt-demo 6.12]')[1]
      .split('\n[')[0]
      .match(/^file = .*$/gm);
    const catalog = `# A copy of the demo series, published on a local web server.\n[series kopt-demo-net]\n[kopt-demo-net 6.12]\nkernel = >=6.12.0 <6.13.0\norigin = ${origin}\n${files.join('\n')}\n`;
    await mkdir(path.join(fresh, 'etc/gentoo-kopt/catalog.d'), { recursive: true });
    await writeFile(path.join(fresh, 'etc/gentoo-kopt/catalog.d/net.conf'), catalog);
    process.stdout.write(`  etc/gentoo-kopt/catalog.d/net.conf:\n${catalog.trimEnd().replace(/^/gm, '    ')}\n`);
    const confFile = path.join(fresh, 'etc/gentoo-kopt/kopt.conf');
    await writeFile(confFile, (await readFile(confFile, 'utf8')).replace(/^#series =$/m, 'series = kopt-demo-net'));
    process.stdout.write('  (kopt.conf: series = kopt-demo-net; no patch-source: the files come from the cache)\n');
    await inFresh('sync-patches', '--no-fetch', '--no-verify');
    await inFresh('fetch', '--verbose');
    await inFresh('fetch');
    await inFresh('sync-patches', '--no-fetch', '--no-verify');
  } finally {
    server.close();
    await rm(fresh, { recursive: true, force: true });
  }
} finally {
  if (!process.env.KEEP_DEMO_ROOT) await rm(root, { recursive: true, force: true });
  else process.stdout.write(`\n(sandbox kept in ${root})\n`);
}
