// Small kernel-like tarballs for the verify tests, made with tar-stream's packer and the real xz and
// gzip: a top-level directory (linux-6.1/) holding a few files, plus whatever odd members a test adds.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface Member {
  name: string;
  type?: tar.Header['type'];
  linkname?: string;
  content?: string | Buffer;
  mode?: number;
}

export type Compression = 'xz' | 'gzip' | 'none';

/** A tar archive of `members`, in order. */
export async function tarOf(members: Member[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { content, ...header } of members) {
    if (content !== undefined) pack.entry(header, content);
    else pack.entry({ ...header, size: 0 });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const xz = (data: Buffer): Buffer =>
  execFileSync('xz', ['-z', '-c', '-T1'], { input: data, maxBuffer: 1 << 28 });

export function compress(data: Buffer, how: Compression): Buffer {
  return how === 'xz' ? xz(data) : how === 'gzip' ? gzipSync(data) : data;
}

const EXT: Record<Compression, string> = { xz: '.tar.xz', gzip: '.tar.gz', none: '.tar' };

/**
 * Writes `<dir>/<top><ext>` holding `<top>/<path>` for each file (directories first, as git archive
 * and kernel.org tarballs have them), then `extra` members; returns its path.
 */
export async function kernelTarball(
  dir: string,
  files: Record<string, string | Buffer>,
  opts: { top?: string; how?: Compression; extra?: Member[]; filler?: number } = {},
): Promise<string> {
  const top = opts.top ?? 'linux-6.1';
  const dirs = new Set<string>();
  for (const p of Object.keys(files))
    for (let d = path.posix.dirname(p); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  const members: Member[] = [
    { name: `${top}/`, type: 'directory' },
    ...[...dirs].sort().map((d) => ({ name: `${top}/${d}/`, type: 'directory' as const })),
    // unwanted members around the wanted ones, so the walk has something to skip
    ...Array.from({ length: opts.filler ?? 20 }, (_, i) => ({
      name: `${top}/filler/f${i}.c`,
      content: `/* filler ${i} */\n`.repeat(50 + i),
    })),
    ...Object.entries(files).map(([p, content]) => ({ name: `${top}/${p}`, content })),
    ...(opts.extra ?? []),
  ];
  const how = opts.how ?? 'xz';
  const file = path.join(dir, `${top}${EXT[how]}`);
  await writeFile(file, compress(await tarOf(members), how));
  return file;
}

/** `count` lines 'line N' (1-based), each ending in a newline. */
export const numbered = (count: number, from = 1): string =>
  Array.from({ length: count }, (_, i) => `line ${i + from}\n`).join('');
