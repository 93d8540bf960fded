// The diff reader: which files a patch touches (what verify extracts from the tarball), the sections
// of the prepatches that touch them, and each hunk's lines (the details of a failed hunk). GNU patch
// applies; this only reads, the way GNU patch reads unified diffs for `patch -p1` (eapply's options):
// text before, between and after the file sections is ignored (commit messages, diffstat, `Index:`
// lines); a section starts at `--- OLD` followed by `+++ NEW`, or at a git header (`diff --git a/X b/X`
// with `new file mode`, `deleted file mode`, `rename from/to`, `copy from/to`, `index`, mode lines; such a
// header is a file section even without hunks, as in GNU patch 2.7: a mode change needs the file, and
// `Binary files ... differ` (git diff --no-binary) is ignored, only `GIT binary patch` is refused);
// each `@@ -a,b +c,d @@` hunk holds exactly b old and d new lines (an empty line counts as an empty
// context line, as GNU patch accepts it); `\ No newline at end of file` takes the newline off the line
// before it. A name of /dev/null, or a timestamp at the Unix epoch (`diff -N`), means the file is absent
// on that side. Names lose their first component (-p1); one that cannot, or that would climb out of
// the tree, is kept as `unsafe` (GNU patch refuses it).
//
// The parser is push-based (one line at a time) so that a 100 MB incremental kernel patch is read as a
// stream: `keep` decides per file whether its hunk lines are stored or only counted. Text is latin1, so
// every byte maps to one character and files round-trip byte for byte.
//
// Numbers are bounded: a line number or count of 2^31 or more is a malformed hunk (a start above 2^53
// is not even a distinct double), and the hunk lines a parser keeps may not pass LIMITS.patch in all
// (a stream of a hostile incremental patch cannot fill memory).
import { SourceError } from '../errors.js';
import { LIMITS } from '../system/read.js';
import { gitNames, isEpoch, splitName, stripName } from './names.js';

export interface Hunk {
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  /** One character per line: ' ' context, '-' removed, '+' added. */
  ops: string;
  /** The lines, each ending in '\n' except one marked `\ No newline at end of file`. */
  lines: string[];
  /** Line of the `@@` header in the patch (1-based). */
  line: number;
}

export interface FilePatch {
  /** Paths after -p1; undefined on the side where the file is absent (or the name is unusable). */
  old?: string;
  new?: string;
  create: boolean;
  delete: boolean;
  rename: boolean;
  copy: boolean;
  /** `GIT binary patch`: patch(1) cannot apply it (`Binary files ... differ` is only text to it). */
  binary: boolean;
  /** An `index` or `old/new mode` line: patch(1) takes the git section as a file even without hunks. */
  header: boolean;
  /** The section has a `diff --git` header. */
  git: boolean;
  /** Why the names cannot be used (patch(1) refuses the file), when they cannot. */
  unsafe?: string;
  hunks: Hunk[];
  /** Line where the section starts in the patch (1-based). */
  line: number;
}

export interface ParseOptions {
  /** Leading path components to strip (eapply: 1). */
  strip?: number;
  /** Whether to store a file's hunk lines (they are always checked). Default: every file. */
  keep?: (file: FilePatch) => boolean;
  /** The most bytes of hunk lines to store (default: a patch file's limit, LIMITS.patch). */
  maxKept?: number;
}

/** Line numbers and counts in a hunk header must be below this (GNU patch's LINENUM is wider, no real file is). */
export const MAX_LINE_NUMBER = 2 ** 31;

/** How many blank context lines patch(1) assumes were chopped off the end of the last hunk. */
const CHOPPED_BLANKS = 3;
const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
const GIT_FLAGS: [RegExp, (f: FilePatch) => void][] = [
  [/^new file mode /, (f) => (f.create = true)],
  [/^deleted file mode /, (f) => (f.delete = true)],
  [/^rename (from|to) /, (f) => (f.rename = true)],
  [/^copy (from|to) /, (f) => (f.copy = true)],
  [/^GIT binary patch/, (f) => (f.binary = true)],
  [/^(index |old mode |new mode )/, (f) => (f.header = true)],
];

type State = 'scan' | 'git' | 'minus' | 'plus' | 'hunk' | 'after-hunk';

/** Reads a patch one line at a time; each line keeps its '\n' (the last line may lack it). */
export class PatchParser {
  readonly files: FilePatch[] = [];
  private state: State = 'scan';
  private lineNo = 0;
  private file?: FilePatch;
  private keeping = true;
  private decided = false;
  private minusName?: [string, string, number];
  private hunk?: Hunk;
  private oldLeft = 0;
  private newLeft = 0;
  /** Whether the current hunk has a '-' or '+' line (patch(1) refuses a hunk of context only). */
  private changes = false;
  private readonly strip: number;
  private kept = 0;

  constructor(
    readonly name: string,
    private readonly opts: ParseOptions = {},
  ) {
    this.strip = opts.strip ?? 1;
  }

  private malformed(message: string, line = this.lineNo): SourceError {
    return new SourceError(`malformed patch: ${message}`, {
      file: this.name,
      line,
      hint: 'patch(1) would refuse this patch too: regenerate it, or fix the hunk counts',
    });
  }

  private newFile(line: number): FilePatch {
    return {
      create: false,
      delete: false,
      rename: false,
      copy: false,
      binary: false,
      header: false,
      git: false,
      hunks: [],
      line,
    };
  }

  private setNames(f: FilePatch, oldRaw: string, newRaw: string, oldAbsent: boolean, newAbsent: boolean): void {
    f.create ||= oldAbsent;
    f.delete ||= newAbsent;
    for (const [side, raw, absent] of [
      ['old', oldRaw, oldAbsent],
      ['new', newRaw, newAbsent],
    ] as const) {
      if (absent) {
        f[side] = undefined;
        continue;
      }
      const { path, unsafe } = stripName(raw, this.strip);
      if (path !== undefined) f[side] = path;
      else f.unsafe ??= unsafe;
    }
  }

  /** Decides once per section, when its names are known, whether `keep` wants it. */
  private decide(): void {
    if (this.decided) return;
    this.decided = true;
    this.keeping = this.opts.keep ? this.opts.keep(this.file!) : true;
  }

  private finishFile(): void {
    const f = this.file;
    if (f) {
      // git names both sides on its `diff --git` line, also for a file created or deleted
      if (f.create && !f.rename && !f.copy) f.old = undefined;
      if (f.delete) f.new = undefined;
      this.decide();
      if (this.keeping && (f.hunks.length > 0 || f.binary || f.header || f.rename || f.copy || f.create || f.delete))
        this.files.push(f);
    }
    this.file = undefined;
    this.decided = false;
    this.keeping = true;
    this.state = 'scan';
  }

  push(line: string): void {
    this.lineNo++;
    switch (this.state) {
      case 'hunk':
        return this.hunkLine(line);
      case 'after-hunk':
        if (line.startsWith('\\')) return this.dropNewline(this.hunk!);
        if (line.startsWith('@@ ')) return this.hunkHeader(line);
        this.finishFile();
        return this.scan(line);
      case 'minus':
        if (line.startsWith('+++ ')) {
          const [oldRaw, oldStamp, at] = this.minusName!;
          const [newRaw, newStamp] = splitName(line.slice(4));
          const f = this.file ?? this.newFile(at);
          this.file = f;
          this.setNames(
            f,
            oldRaw,
            newRaw,
            oldRaw === '/dev/null' || isEpoch(oldStamp),
            newRaw === '/dev/null' || isEpoch(newStamp),
          );
          this.state = 'plus';
          return;
        }
        // a `---` line that was not a header after all: read this line again in the state before it
        this.state = this.file ? 'git' : 'scan';
        this.lineNo--;
        return this.push(line);
      case 'plus':
        if (line.startsWith('@@ ')) {
          this.decide();
          return this.hunkHeader(line);
        }
        // Names without a hunk: nothing for patch(1) to do here.
        this.file = undefined;
        this.state = 'scan';
        return this.scan(line);
      case 'git':
        for (const [re, set] of GIT_FLAGS) if (re.test(line)) set(this.file!);
        if (this.file!.binary) return this.finishFile();
        if (line.startsWith('--- ')) return this.minus(line);
        if (line.startsWith('diff --git ')) this.finishFile();
        return this.scan(line);
      case 'scan':
        return this.scan(line);
    }
  }

  private minus(line: string): void {
    const [name, stamp] = splitName(line.slice(4));
    this.minusName = [name, stamp, this.file?.line ?? this.lineNo];
    this.state = 'minus';
  }

  private scan(line: string): void {
    if (this.state === 'git') return;
    if (line.startsWith('diff --git ')) {
      const names = gitNames(line.slice('diff --git '.length));
      const f = this.newFile(this.lineNo);
      if (names) this.setNames(f, names[0], names[1], false, false);
      else f.unsafe = `cannot read the file names of '${line.trimEnd()}'`;
      f.git = true;
      this.file = f;
      this.state = 'git';
      return;
    }
    if (line.startsWith('--- ')) this.minus(line);
  }

  private hunkHeader(line: string): void {
    const m = HUNK_HEADER.exec(line);
    if (!m) throw this.malformed(`bad hunk header '${line.trimEnd().slice(0, 60)}'`);
    const [, a, b, c, d] = m;
    const number = (digits: string | undefined): number => {
      if (digits === undefined) return 1;
      const n = digits.length > 12 ? Infinity : Number(digits);
      if (n >= MAX_LINE_NUMBER)
        throw this.malformed(
          `the hunk header has a line number or count of 2^31 or more (${digits.length > 20 ? `${digits.slice(0, 20)}...` : digits})`,
        );
      return n;
    };
    this.hunk = {
      oldStart: number(a),
      oldCount: number(b),
      newStart: number(c),
      newCount: number(d),
      ops: '',
      lines: [],
      line: this.lineNo,
    };
    this.oldLeft = this.hunk.oldCount;
    this.newLeft = this.hunk.newCount;
    this.changes = false;
    if (this.keeping) this.file!.hunks.push(this.hunk);
    this.state = this.oldLeft + this.newLeft === 0 ? 'after-hunk' : 'hunk';
  }

  private hunkLine(line: string): void {
    const h = this.hunk!;
    let op = line[0];
    let text = line.slice(1);
    if (line === '\n' || line === '\r\n' || line === '') [op, text] = [' ', line === '' ? '' : line];
    if (op === '\\') {
      this.dropNewline(h);
      return;
    }
    const counts = op === ' ' ? [1, 1] : op === '-' ? [1, 0] : op === '+' ? [0, 1] : undefined;
    if (!counts || this.oldLeft < counts[0]! || this.newLeft < counts[1]!) {
      const why = counts
        ? `one ${op === '-' ? 'old' : op === '+' ? 'new' : 'context'} line too many`
        : `'${line.trimEnd().slice(0, 60)}' is not a hunk line`;
      throw this.malformed(
        `hunk at line ${h.line} (-${h.oldStart},${h.oldCount} +${h.newStart},${h.newCount}): ${why}; ${this.oldLeft} old and ${this.newLeft} new line(s) were still expected`,
      );
    }
    this.take(h, op!, text);
  }

  private take(h: Hunk, op: string, text: string): void {
    this.oldLeft -= op === '+' ? 0 : 1;
    this.newLeft -= op === '-' ? 0 : 1;
    this.changes ||= op !== ' ';
    if (this.keeping) {
      this.kept += text.length;
      const max = this.opts.maxKept ?? LIMITS.patch.max;
      if (this.kept > max) {
        throw new SourceError(
          `the sections to verify hold more than ${max} bytes of hunk lines: refusing to keep more`,
          {
            file: this.name,
            line: this.lineNo,
            hint: 'no real patch changes that much of the files a series touches',
          },
        );
      }
      h.ops += op;
      h.lines.push(text);
    }
    if (this.oldLeft === 0 && this.newLeft === 0) {
      if (!this.changes)
        throw this.malformed(
          `the hunk at line ${h.line} (-${h.oldStart},${h.oldCount} +${h.newStart},${h.newCount}) has only context lines, no change`,
        );
      this.state = 'after-hunk';
    }
  }

  private dropNewline(h: Hunk): void {
    if (!this.keeping) return;
    const last = h.lines.length - 1;
    if (last >= 0 && h.lines[last]!.endsWith('\n')) h.lines[last] = h.lines[last]!.slice(0, -1);
  }

  /** Every path the sections read so far name, the one in progress included (also after an error). */
  touched(): string[] {
    return [...this.files, ...(this.file ? [this.file] : [])].flatMap(pathsOf);
  }

  /** Ends the input; returns the file sections (those `keep` declined have no hunk lines). */
  end(): FilePatch[] {
    if (this.state === 'hunk') {
      const h = this.hunk!;
      // patch(1) takes up to 3 lines missing at the very end as blank context lines a mailer or editor
      // stripped (then matched with fuzz); they must be missing on both sides alike.
      if (this.oldLeft === this.newLeft && this.oldLeft <= CHOPPED_BLANKS) {
        while (this.state === 'hunk') this.take(h, ' ', '\n');
        return this.end();
      }
      throw this.malformed(
        `the patch ends inside the hunk at line ${h.line}: ${this.oldLeft} old and ${this.newLeft} new line(s) missing`,
        h.line,
      );
    }
    if (this.state === 'git' || this.state === 'after-hunk') this.finishFile();
    return this.files;
  }
}

/** Splits latin1 text into lines that keep their '\n', feeding `push`. */
export function feedLines(text: string, push: (line: string) => void): void {
  let at = 0;
  while (at < text.length) {
    const nl = text.indexOf('\n', at);
    const end = nl < 0 ? text.length : nl + 1;
    push(text.slice(at, end));
    at = end;
  }
}

/** Parses a whole patch held in memory (latin1 or a Buffer). */
export function parsePatch(text: string | Buffer, name: string, opts: ParseOptions = {}): FilePatch[] {
  const parser = new PatchParser(name, opts);
  feedLines(typeof text === 'string' ? text : text.toString('latin1'), (l) => parser.push(l));
  return parser.end();
}

/** Every path a section may read or write (both names: which one patch(1) uses depends on the tree). */
export function pathsOf(f: FilePatch): string[] {
  return [...new Set([f.old, f.new].filter((p): p is string => p !== undefined))];
}
