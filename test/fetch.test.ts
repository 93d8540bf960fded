// gentoo-kopt fetch and sync-patches' fetching, for real: a local HTTP server on 127.0.0.1 (random
// port, closed after each test) and the real wget, run through FETCHCOMMAND / RESUMECOMMAND as Portage
// runs them. Each failure (server down, 404, truncated body, wrong checksum, redirect loop, a body over
// the cap) must be an error naming the URL, with nothing changed under etc/portage.
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { syncPatches } from '../src/commands/sync-patches.js';
import { fetchCommand } from '../src/commands/fetch.js';
import { KoptError } from '../src/errors.js';
import { DEFAULT_FETCHCOMMAND, fetchArgv, fetchCommands, resumeMinSize } from '../src/portage/fetch-command.js';
import { splitWords } from '../src/portage/shell-words.js';
import { download } from '../src/system/download.js';
import { commandsFor } from '../src/patches/fetch.js';
import { gentooRoot } from './helpers/gentoo.js';
import { snapshot } from './helpers/tree.js';

const A = `--- a/Makefile\n+++ b/Makefile\n@@ -1 +1 @@\n-x\n+y\n${'# padding\n'.repeat(200)}`;
const B = '--- a/Kconfig\n+++ b/Kconfig\n@@ -1 +1 @@\n-a\n+b\n';
const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
/** Quick failures: one try, short timeout (the default command retries 3 times). */
const ONE_TRY = 'FETCHCOMMAND="wget -t 1 -T 5 -O \\"\\${DISTDIR}/\\${FILE}\\" \\"\\${URI}\\""\n';

type Mode = 'ok' | '404' | 'truncate' | 'wrong' | 'loop';

interface TestServer {
  base: string;
  port: number;
  requests: { url: string; range?: string }[];
  mode: Map<string, Mode>;
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Serves /repo/6.12/0001-a.patch and 0002-b.patch, each path in its `mode`; honours `Range: bytes=N-`. */
async function serve(): Promise<TestServer> {
  const files: Record<string, string> = { '/repo/6.12/0001-a.patch': A, '/repo/6.12/0002-b.patch': B };
  const mode = new Map<string, Mode>();
  const requests: TestServer['requests'] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const url = req.url ?? '/';
    requests.push({ url, ...(req.headers.range ? { range: req.headers.range } : {}) });
    const body = files[url];
    const m = mode.get(url) ?? 'ok';
    if (body === undefined || m === '404') return void res.writeHead(404).end('not here\n');
    if (m === 'loop') return void res.writeHead(302, { Location: url }).end();
    if (m === 'wrong') return void res.writeHead(200, { 'Content-Length': 6 }).end('wrong\n');
    if (m === 'truncate') {
      res.writeHead(200, { 'Content-Length': body.length });
      res.write(body.slice(0, 100));
      return void setTimeout(() => res.destroy(), 20);
    }
    const r = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (r) {
      const from = Number(r[1]);
      res.writeHead(206, {
        'Content-Length': body.length - from,
        'Content-Range': `bytes ${from}-${body.length - 1}/${body.length}`,
      });
      return void res.end(body.slice(from));
    }
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/repo/`,
    port,
    requests,
    mode,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A root with gentoo-kernel-6.12.58 installed and a catalog entry whose origin is `base`; no patch-source. */
async function root(base: string, makeConf = '') {
  const catalog = [
    '[series net-demo]',
    '[net-demo 6.12]',
    'kernel = >=6.12.0 <6.13.0',
    `origin = ${base}`,
    `file = 6.12/0001-a.patch sha256:${sha(A)}`,
    `file = 6.12/0002-b.patch sha256:${sha(B)}`,
    '',
  ].join('\n');
  const r = await gentooRoot({
    installed: ['sys-kernel/gentoo-kernel-6.12.58'],
    conf: 'packages = sys-kernel/gentoo-kernel\nseries = net-demo\n',
    extra: { 'etc/gentoo-kopt/catalog.d/net.conf': catalog, 'etc/portage/make.conf': makeConf },
  });
  const ctx = { ...r.ctx, env: ENV };
  const port = new URL(base).port;
  const cached = (name: string) =>
    path.join(r.dir, `var/cache/distfiles/gentoo-kopt/127.0.0.1_${port}/repo/6.12`, name);
  return { ...r, ctx, cached };
}

const sync = (ctx: Parameters<typeof syncPatches>[0], opts: Partial<Parameters<typeof syncPatches>[1]> = {}) =>
  syncPatches(ctx, { pretend: false, force: false, packages: [], verify: false, ...opts });

const PATCHES = 'etc/portage/patches/sys-kernel/gentoo-kernel-6.12.58';

/** sync-patches fails with an error naming `url`, and etc/portage is exactly as it was. */
async function failsNaming(r: Awaited<ReturnType<typeof root>>, url: string, also: RegExp): Promise<KoptError> {
  const before = await snapshot(path.join(r.dir, 'etc/portage'));
  const err = (await sync(r.ctx).catch((e: unknown) => e)) as KoptError;
  expect(err).toBeInstanceOf(KoptError);
  expect(err.message).toContain(url);
  expect(err.message).toMatch(also);
  expect(await snapshot(path.join(r.dir, 'etc/portage'))).toEqual(before);
  return err;
}

describe('FETCHCOMMAND as Portage expands and splits it', () => {
  it("Portage's default wget command: ${DISTDIR}/${FILE} and ${URI} substituted, quotes removed", () => {
    const { fetch } = fetchCommands('https', () => undefined);
    expect(fetch.value).toBe(DEFAULT_FETCHCOMMAND);
    expect(fetchArgv(fetch, { URI: 'https://h/p/a b.patch', FILE: 'a.patch.__download__', DISTDIR: '/d d' })).toEqual([
      'wget',
      '-t',
      '3',
      '-T',
      '60',
      '--passive-ftp',
      '-U',
      'Portage (Gentoo, https://www.gentoo.org) distfile-fetch',
      '-O',
      '/d d/a.patch.__download__',
      'https://h/p/a b.patch',
    ]);
  });

  it('FETCHCOMMAND_<PROTOCOL> wins; a command without ${FILE} is refused, naming where it is set', () => {
    const set = new Map([
      ['FETCHCOMMAND', { name: 'FETCHCOMMAND', value: 'curl -o "${DISTDIR}/${FILE}" "${URI}"' }],
      [
        'FETCHCOMMAND_HTTP',
        {
          name: 'FETCHCOMMAND_HTTP',
          value: 'wget -O "${DISTDIR}/x" "${URI}"',
          where: { file: '/etc/portage/make.conf', line: 3 },
        },
      ],
    ]);
    const c = fetchCommands('http', (n) => set.get(n));
    expect(c.fetch.name).toBe('FETCHCOMMAND_HTTP');
    expect(() => fetchArgv(c.fetch, { URI: 'u', FILE: 'f', DISTDIR: 'd' })).toThrow(
      /FETCHCOMMAND_HTTP: does not contain/,
    );
    expect(fetchCommands('https', (n) => set.get(n)).fetch.value).toMatch(/^curl/);
  });

  it.each([
    ['a "b c" d\\ e', ['a', 'b c', 'd e']],
    [`'f\\g' "h\\"i\\x"`, ['f\\g', 'h"i\\x']],
    ['x""  y', ['x', 'y']],
    ['""', ['']],
  ])('splitWords(%j) is shlex.split', (s, words) => expect(splitWords(s)).toEqual(words));

  it('PORTAGE_FETCH_RESUME_MIN_SIZE: 350K by default, suffixes K M G, a bad value means the default', () => {
    expect(resumeMinSize(undefined)).toBe(350 * 1024);
    expect(resumeMinSize('0')).toBe(0);
    expect(resumeMinSize('2M')).toBe(2 * 1024 * 1024);
    expect(resumeMinSize('lots')).toBe(350 * 1024);
  });
});

describe('gentoo-kopt fetch with the real wget', () => {
  it("downloads every file into ${DISTDIR}/gentoo-kopt with Portage's default FETCHCOMMAND; sync-patches then needs no network", async () => {
    const s = await serve();
    const r = await root(s.base);
    const before = await snapshot(path.join(r.dir, 'etc/portage'));
    const res = await fetchCommand(r.ctx, { packages: [] });
    expect(res.exitCode).toBe(0);
    expect(res.data.files.map((f) => [f.url, f.status])).toEqual([
      [`${s.base}6.12/0001-a.patch`, 'fetched'],
      [`${s.base}6.12/0002-b.patch`, 'fetched'],
    ]);
    expect(await readFile(r.cached('0001-a.patch'), 'utf8')).toBe(A);
    expect(await readFile(r.cached('0002-b.patch'), 'utf8')).toBe(B);
    expect((await readdir(path.dirname(r.cached('x')))).sort()).toEqual(['0001-a.patch', '0002-b.patch']);
    expect(res.text).toContain(` * fetched           ${s.base}6.12/0001-a.patch`);
    expect(await snapshot(path.join(r.dir, 'etc/portage'))).toEqual(before); // fetch writes nothing there

    // a second run finds them in the cache: no request
    const n = s.requests.length;
    expect((await fetchCommand(r.ctx, { packages: [] })).data.files.map((f) => f.status)).toEqual(['cached', 'cached']);
    expect(s.requests.length).toBe(n);

    await s.close();
    const { report } = await sync(r.ctx, { fetch: false }); // as the hook runs it: from the cache
    expect(report.changed).toBe(true);
    const installed = await readdir(path.join(r.dir, PATCHES));
    expect(installed.sort()).toEqual([
      '00-gentoo-kopt-1-net-demo-01-0001-a.patch',
      '00-gentoo-kopt-1-net-demo-02-0002-b.patch',
    ]);
  });

  it('a file that fails is reported with its URL; the others are still fetched; exit status 1', async () => {
    const s = await serve();
    const r = await root(s.base, ONE_TRY);
    s.mode.set('/repo/6.12/0001-a.patch', '404');
    const res = await fetchCommand(r.ctx, { packages: [] });
    expect(res.exitCode).toBe(1);
    expect(res.data.files.map((f) => f.status)).toEqual(['failed', 'fetched']);
    expect(res.text).toMatch(
      new RegExp(` \\* ${s.base}6\\.12/0001-a\\.patch: download failed: wget exited with status 8`),
    );
  });

  it('a partial file is resumed with RESUMECOMMAND (Range request) once it reaches PORTAGE_FETCH_RESUME_MIN_SIZE', async () => {
    const s = await serve();
    const r = await root(s.base, 'PORTAGE_FETCH_RESUME_MIN_SIZE="1K"\n');
    await mkdir(path.dirname(r.cached('x')), { recursive: true });
    await writeFile(`${r.cached('0001-a.patch')}.__download__`, A.slice(0, 1500));
    await writeFile(`${r.cached('0002-b.patch')}.__download__`, B.slice(0, 10)); // under 1K: fetched again
    const res = await fetchCommand(r.ctx, { packages: [] });
    expect(res.data.files.map((f) => f.status)).toEqual(['resumed', 'fetched']);
    expect(s.requests.find((q) => q.url.endsWith('0001-a.patch'))?.range).toBe('bytes=1500-');
    expect(s.requests.find((q) => q.url.endsWith('0002-b.patch'))?.range).toBeUndefined();
    expect(await readFile(r.cached('0001-a.patch'), 'utf8')).toBe(A);
    expect(await readFile(r.cached('0002-b.patch'), 'utf8')).toBe(B);
  });

  it('a cached file with the wrong checksum is kept aside as ._checksum_failure_. and fetched again', async () => {
    const s = await serve();
    const r = await root(s.base);
    await mkdir(path.dirname(r.cached('x')), { recursive: true });
    await writeFile(r.cached('0001-a.patch'), 'tampered\n');
    const res = await fetchCommand(r.ctx, { packages: [] });
    expect(res.data.files[0]).toMatchObject({ status: 'fetched' });
    expect(res.data.files[0]!.keptAside).toMatch(/0001-a\.patch\._checksum_failure_\.[0-9a-f]{8}$/);
    expect(await readFile(res.data.files[0]!.keptAside!, 'utf8')).toBe('tampered\n');
    expect(await readFile(r.cached('0001-a.patch'), 'utf8')).toBe(A);
  });
});

describe('sync-patches fetches what is missing before its transaction', () => {
  it('downloads the missing files, then installs them in one transaction', async () => {
    const s = await serve();
    const r = await root(s.base);
    const { report } = await sync(r.ctx);
    expect(report.fetched).toEqual([`${s.base}6.12/0001-a.patch`, `${s.base}6.12/0002-b.patch`]);
    expect(report.transaction).toBeDefined();
    expect(await readFile(path.join(r.dir, PATCHES, '00-gentoo-kopt-1-net-demo-01-0001-a.patch'), 'utf8')).toBe(A);
  });

  it("the hook's just-in-time sync (--no-fetch, or inside an emerge) never downloads: it names gentoo-kopt fetch", async () => {
    const s = await serve();
    const r = await root(s.base);
    const before = await snapshot(path.join(r.dir, 'etc/portage'));
    for (const run of [
      () => sync(r.ctx, { fetch: false, packages: ['sys-kernel/gentoo-kernel-6.12.58'] }),
      () => sync({ ...r.ctx, env: { ...ENV, EBUILD_PHASE: 'setup' } }),
    ]) {
      const err = (await run().catch((e: unknown) => e)) as KoptError;
      expect(err).toBeInstanceOf(KoptError);
      expect(err.message).toContain("'6.12/0001-a.patch' is in none of the patch sources");
      expect(err.hint).toContain('run: gentoo-kopt fetch');
    }
    expect(s.requests).toEqual([]);
    expect(await snapshot(path.join(r.dir, 'etc/portage'))).toEqual(before);
  });

  it('a cached file with the wrong checksum: the hook refuses it (run fetch); sync-patches moves it aside and downloads', async () => {
    const s = await serve();
    const r = await root(s.base);
    await mkdir(path.dirname(r.cached('x')), { recursive: true });
    await writeFile(r.cached('0001-a.patch'), 'tampered\n');
    const err = (await sync(r.ctx, { fetch: false }).catch((e: unknown) => e)) as KoptError;
    expect(err.message).toMatch(/checksum mismatch for '6\.12\/0001-a\.patch'/);
    expect(err.hint).toMatch(/run gentoo-kopt fetch/);
    expect(s.requests).toEqual([]);
    const { report } = await sync(r.ctx);
    expect(report.fetched).toEqual([`${s.base}6.12/0001-a.patch`, `${s.base}6.12/0002-b.patch`]);
    expect(await readFile(r.cached('0001-a.patch'), 'utf8')).toBe(A);
    const aside = (await readdir(path.dirname(r.cached('x')))).filter((n) => n.includes('._checksum_failure_.'));
    expect(aside).toHaveLength(1);
  });

  it('--pretend downloads nothing either', async () => {
    const s = await serve();
    const r = await root(s.base);
    await expect(sync(r.ctx, { pretend: true })).rejects.toThrow(/in none of the patch sources/);
    expect(s.requests).toEqual([]);
  });

  it('a server that is down: an error naming the URL, nothing changed', async () => {
    const s = await serve();
    await s.close();
    const r = await root(s.base, ONE_TRY);
    await failsNaming(r, `${s.base}6.12/0001-a.patch`, /wget exited with status 4 \(network failure\).*refused/i);
  });

  it('a 404: an error naming the URL and the status, no empty file left', async () => {
    const s = await serve();
    const r = await root(s.base, ONE_TRY);
    s.mode.set('/repo/6.12/0002-b.patch', '404');
    await failsNaming(r, `${s.base}6.12/0002-b.patch`, /status 8 .*404/);
    await expect(stat(`${r.cached('0002-b.patch')}.__download__`)).rejects.toThrow();
  });

  it('a truncated body: an error naming the URL; the partial file is kept for a resume', async () => {
    const s = await serve();
    const r = await root(s.base, ONE_TRY);
    s.mode.set('/repo/6.12/0001-a.patch', 'truncate');
    const err = await failsNaming(r, `${s.base}6.12/0001-a.patch`, /download failed: wget exited with status 4/);
    expect(err.hint).toMatch(/resumed/);
    expect((await stat(`${r.cached('0001-a.patch')}.__download__`)).size).toBe(100);
    await expect(stat(r.cached('0001-a.patch'))).rejects.toThrow();
  });

  it('a wrong checksum: an error naming the URL and both digests; the file is kept aside, never used', async () => {
    const s = await serve();
    const r = await root(s.base, ONE_TRY);
    s.mode.set('/repo/6.12/0001-a.patch', 'wrong');
    await failsNaming(r, `${s.base}6.12/0001-a.patch`, new RegExp(`expected sha256 ${sha(A)}, got ${sha('wrong\n')}`));
    const names = await readdir(path.dirname(r.cached('x')));
    expect(names.filter((n) => n.startsWith('0001-a.patch'))).toEqual([
      expect.stringMatching(/^0001-a\.patch\._checksum_failure_\.[0-9a-f]{8}$/),
    ]);
  });

  it('a redirect loop: an error naming the URL', async () => {
    const s = await serve();
    const r = await root(s.base, ONE_TRY);
    s.mode.set('/repo/6.12/0001-a.patch', 'loop');
    await failsNaming(r, `${s.base}6.12/0001-a.patch`, /redirections exceeded/);
  });
});

describe('download: the size cap', () => {
  it('a body larger than the cap is cut and refused; nothing is left in the cache', async () => {
    const s = await serve();
    const dir = path.join((await gentooRoot()).dir, 'cache');
    const file = path.join(dir, '0001-a.patch');
    const commands = commandsFor(fetchCommands('http', () => undefined));
    const err = (await download({
      url: `${s.base}6.12/0001-a.patch`,
      file,
      sha256: sha(A),
      ...commands,
      env: ENV,
      max: 1000,
    }).catch((e: unknown) => e)) as KoptError;
    expect(err).toBeInstanceOf(KoptError);
    expect(err.message).toBe(`${s.base}6.12/0001-a.patch: the file is larger than 1000 bytes: cut there and refused`);
    expect(await readdir(dir)).toEqual([]);
  });
});
