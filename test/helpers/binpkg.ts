// Binary packages as Portage writes them (lib/portage/gpkg.py, lib/portage/xpak.py), small: an
// image of one file and the metadata doctor reads, environment.bz2. For the binhost check's tests.
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { bzip2 } from './doctor-root.js';

async function tarOf(members: Record<string, Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', resolve));
  for (const [name, data] of Object.entries(members)) pack.entry({ name, size: data.length, mtime: new Date(0) }, data);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * A GPKG (`<pf>[-<build id>].gpkg.tar`) whose metadata.tar.<suffix> holds environment.bz2 with
 * `environment` (or these `envBytes`: a bomb, garbage). `compress` makes the metadata tar's suffix
 * and bytes (gzip by default); `metadata` replaces the metadata tar itself.
 */
export async function gpkg(
  base: string,
  environment: string,
  opts: { compress?: (tar: Buffer) => [string, Buffer]; envBytes?: Buffer; metadata?: Buffer } = {},
): Promise<Buffer> {
  const metadata =
    opts.metadata ??
    (await tarOf({
      'metadata/environment.bz2': opts.envBytes ?? bzip2(environment),
      'metadata/CATEGORY': Buffer.from('sys-kernel\n'),
    }));
  const [suffix, bytes] = (opts.compress ?? ((t: Buffer) => ['.gz', gzipSync(t)]))(metadata);
  return tarOf({
    [`${base}/gpkg-1`]: Buffer.from('gpkg-1\n'),
    [`${base}/metadata.tar${suffix}`]: bytes,
    [`${base}/image.tar.gz`]: gzipSync(await tarOf({ 'image/boot/vmlinuz': Buffer.alloc(4096, 7) })),
  });
}

/** An XPAK package (`<pf>.tbz2`): a bzip2 image, then the XPAK segment with environment.bz2. */
export async function xpak(environment: string): Promise<Buffer> {
  const entries: [string, Buffer][] = [
    ['CATEGORY', Buffer.from('sys-kernel\n')],
    ['environment.bz2', bzip2(environment)],
  ];
  const index: Buffer[] = [];
  const data: Buffer[] = [];
  let offset = 0;
  for (const [name, bytes] of entries) {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(name.length);
    const tail = Buffer.alloc(8);
    tail.writeUInt32BE(offset, 0);
    tail.writeUInt32BE(bytes.length, 4);
    index.push(head, Buffer.from(name), tail);
    data.push(bytes);
    offset += bytes.length;
  }
  const idx = Buffer.concat(index);
  const dat = Buffer.concat(data);
  const lens = Buffer.alloc(8);
  lens.writeUInt32BE(idx.length, 0);
  lens.writeUInt32BE(dat.length, 4);
  const segment = Buffer.concat([Buffer.from('XPAKPACK'), lens, idx, dat, Buffer.from('XPAKSTOP')]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32BE(segment.length, 0);
  trailer.write('STOP', 4, 'latin1');
  const image = bzip2((await tarOf({ 'boot/vmlinuz': Buffer.alloc(4096, 7) })).toString('latin1'));
  return Buffer.concat([image, segment, trailer]);
}
