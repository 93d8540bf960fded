// GCC's .gcda files, as the kernel's gcov support writes them (kernel/gcov/gcc_4_7.c, convert_to_gcda)
// and as GCC reads them back with -fprofile-use (gcc/gcov-io.h, gcc/profile.cc). Pure: bytes in, bytes
// or an error out.
//
// Layout (GCC 12 and newer; 32-bit words in the byte order of the machine that wrote them):
//   header   magic 'gcda' (0x67636461), version ('B','2','2','*' for GCC 12.2), stamp, checksum
//   records  tag, length in BYTES, then length bytes of data; a counter record (tags 0x01a10000 +
//            0x20000 * n) whose length is negative has no data (libgcov's "all counters are zero");
//            libgcov ends the file with a zero word
// Before GCC 12 the length counted words and there was no checksum word: such files are refused, not
// guessed at. The kernel writes no object summary (tag 0xa1000000: runs, sum_max); without one GCC
// reads the counts and then ignores them without a word ("Profile info is missing; giving up" in
// profile.cc), so collect adds one: runs = 1, sum_max = the largest arc counter of the whole kernel
// (what libgcov's run_max would be; GCC derives its hot threshold from it).
import { ConfigError } from '../errors.js';

export const GCDA_MAGIC = 0x67636461;
const TAG_FUNCTION = 0x01000000;
const TAG_ARCS = 0x01a10000;
export const TAG_SUMMARY = 0xa1000000;
const COUNTER_BASE = 0x01a10000;
const COUNTER_LAST = 0x01bf0000;
const HEADER = 16;
/** The oldest GCC whose layout is read (lengths in bytes, a checksum in the header). */
export const MIN_GCC = 12;

export interface GcdaInfo {
  /** GCC's major version, from the header. */
  gccMajor: number;
  /** The largest arc counter (saturated at 2^53). */
  maxArc: number;
  /** How many functions have a record. */
  functions: number;
  /** Whether it already has an object summary (libgcov writes one; the kernel does not). */
  summary: boolean;
}

const bad = (file: string, problem: string, hint?: string): ConfigError =>
  new ConfigError(problem, {
    file,
    hint: hint ?? 'this is not a .gcda file GCC wrote for this kernel: collect the profile again',
  });

/** GCC's major version from a header's version word ('A'..'Z' tens, '0'..'9' units). */
function gccMajor(word: number): number | undefined {
  const tens = (word >>> 24) - 0x41;
  const units = ((word >>> 16) & 0xff) - 0x30;
  if (tens < 0 || tens > 25 || units < 0 || units > 9 || (word & 0xff) !== 0x2a) return undefined;
  return tens * 10 + units;
}

/**
 * Checks one .gcda of GCC 12+ written on a little-endian machine and says what it holds; a ConfigError
 * naming `file` otherwise (not a .gcda, another byte order, an older GCC, records that do not add up).
 */
export function scanGcda(bytes: Buffer, file: string): GcdaInfo {
  if (bytes.length < HEADER) throw bad(file, `is ${bytes.length} bytes long: too short for a .gcda header`);
  const magic = bytes.readUInt32LE(0);
  if (magic !== GCDA_MAGIC) {
    if (bytes.readUInt32BE(0) === GCDA_MAGIC)
      throw bad(
        file,
        'was written by a big-endian machine: a profile of another architecture',
        'use a profile recorded on a kernel of this architecture',
      );
    throw bad(file, 'is not a .gcda file (no gcda magic)');
  }
  const major = gccMajor(bytes.readUInt32LE(4));
  if (major === undefined) throw bad(file, 'has no valid GCC version in its header');
  if (major < MIN_GCC)
    throw bad(
      file,
      `was written for GCC ${major}: only GCC ${MIN_GCC} and newer are handled`,
      `build the instrumented kernel with GCC ${MIN_GCC} or newer`,
    );
  let at = HEADER;
  let maxArc = 0;
  let functions = 0;
  let summary = false;
  while (at < bytes.length) {
    // libgcov ends a file with one zero word (the kernel does not)
    if (at + 4 === bytes.length && bytes.readUInt32LE(at) === 0) break;
    if (at + 8 > bytes.length) throw bad(file, `is cut short: a record header at byte ${at} is incomplete`);
    const tag = bytes.readUInt32LE(at);
    const length = bytes.readInt32LE(at + 4);
    at += 8;
    const counter = tag >= COUNTER_BASE && tag <= COUNTER_LAST && (tag & 0xffff) === 0;
    if (length < 0 && counter) continue; // all counters zero: no data follows
    if (length < 0 || length % 4 !== 0)
      throw bad(file, `has a record (tag 0x${tag.toString(16)}) at byte ${at - 8} with an impossible length`);
    if (at + length > bytes.length)
      throw bad(file, `is cut short: a record at byte ${at - 8} needs ${length} bytes, ${bytes.length - at} are left`);
    if (tag === TAG_FUNCTION) functions++;
    else if (tag === TAG_SUMMARY) summary = true;
    else if (tag === TAG_ARCS) {
      if (length % 8 !== 0) throw bad(file, `has an arc counter record at byte ${at - 8} of an odd length`);
      for (let i = at; i < at + length; i += 8) {
        const v = bytes.readUInt32LE(i) + bytes.readUInt32LE(i + 4) * 2 ** 32;
        if (v > maxArc) maxArc = Math.min(v, Number.MAX_SAFE_INTEGER);
      }
    }
    at += length;
  }
  return { gccMajor: major, maxArc, functions, summary };
}

/** `bytes` with an object summary (runs = 1, sum_max = `sumMax`, at most 2^32 - 1) after the header, unless it has one. */
export function withSummary(bytes: Buffer, info: GcdaInfo, sumMax: number): Buffer {
  if (info.summary) return bytes;
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(TAG_SUMMARY, 0);
  rec.writeUInt32LE(8, 4);
  rec.writeUInt32LE(1, 8);
  rec.writeUInt32LE(Math.min(sumMax, 0xffffffff), 12);
  return Buffer.concat([bytes.subarray(0, HEADER), rec, bytes.subarray(HEADER)]);
}
