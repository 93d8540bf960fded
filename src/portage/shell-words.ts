// The shell-like words of make.conf as Portage reads them: a port of the Python shlex tokenizer in
// POSIX mode with the settings of getconfig(), and of varexpand(), both in lib/portage/util/__init__.py.
// Behaviour is kept quirk for quirk (checked against Portage with Python), except that what would need
// a shell is refused with a ConfigError: command substitution, backquotes, parameter expansions such as
// ${VAR:-x} (Portage prints a warning and blanks the value).
import { ConfigError } from '../errors.js';

export interface Token {
  value: string;
  line: number;
}

// getconfig's lex.wordchars; whitespace and quotes as shlex's defaults.
const WORDCHARS = new Set('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ~!@#$%*_\\:;?,./-+{}');
const WHITESPACE = new Set(' \t\r\n');
const QUOTES = new Set(`"'`);
const VARCHAR = /[A-Za-z0-9_]/;
export const NO_EXEC_HINT = 'make.conf is read as data, never executed: write the value itself';

/** Python shlex.read_token in POSIX mode with getconfig's settings; `#` comments; punctuation as single tokens. */
export class Lexer {
  private pos = 0;
  private line = 1;
  private pushback: Token[] = [];
  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  private error(message: string, line: number, hint?: string): ConfigError {
    return new ConfigError(message, { file: this.file, line, hint });
  }

  private skipComment(): void {
    while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
    if (this.pos < this.text.length) {
      this.pos++;
      this.line++;
    }
  }

  next(): Token | undefined {
    const pending = this.pushback.shift();
    if (pending) return pending;
    let token = '';
    let quoted = false;
    let state = ' ';
    let escaped = ' ';
    let start = this.line;
    for (;;) {
      const at = this.line;
      const c = this.text[this.pos++] ?? '';
      if (c === '\n') this.line++;
      if (state === ' ') {
        if (c === '') break;
        start = at;
        if (WHITESPACE.has(c)) continue;
        if (c === '#') this.skipComment();
        else if (c === '\\') [escaped, state] = ['a', c];
        else if (c === '`') throw this.error('command substitution with backquotes is not supported', at, NO_EXEC_HINT);
        else if (WORDCHARS.has(c)) [token, state] = [c, 'a'];
        else if (QUOTES.has(c)) state = c;
        else return { value: c, line: at };
      } else if (QUOTES.has(state)) {
        quoted = true;
        if (c === '') throw this.error(`no closing ${state === '"' ? 'double' : 'single'} quote`, start);
        if (c === state) state = 'a';
        else if (c === '\\' && state === '"') [escaped, state] = [state, c];
        else token += c;
      } else if (state === '\\') {
        if (c === '') throw this.error('backslash at the end of the file', at);
        // Inside double quotes a backslash only escapes `"` and `\`; before anything else it stays.
        if (QUOTES.has(escaped) && c !== '\\' && c !== escaped) token += '\\';
        token += c;
        state = escaped;
      } else {
        // state 'a': inside a word
        if (c === '' || WHITESPACE.has(c)) break;
        if (c === '#') {
          this.skipComment();
          break;
        }
        if (QUOTES.has(c)) state = c;
        else if (c === '\\') [escaped, state] = ['a', c];
        else if (WORDCHARS.has(c)) token += c;
        else if (c === '`' || (c === '(' && token.endsWith('$'))) {
          throw this.error('command substitution is not supported', at, NO_EXEC_HINT);
        } else {
          this.pushback.push({ value: c, line: at });
          break;
        }
      }
    }
    return token !== '' || quoted ? { value: token, line: start } : undefined;
  }
}

/**
 * Portage's varexpand on a word after quote removal: `$VAR`/`${VAR}` from `vars`, `\$` and `\\` kept
 * literally, a quote character toggles quoting as written, newlines become spaces. With `limit`, a
 * result longer than `limit.max` characters is a ConfigError (checked as it grows). Messages quote
 * nothing of the word but a variable name.
 */
export function varexpand(
  s: string,
  vars: Map<string, string>,
  where: { file: string; line: number },
  limit?: { max: number; hint: string },
): string {
  let out = '';
  let insing = false;
  let indoub = false;
  let pos = 0;
  const fail = (message: string, hint?: string): ConfigError => new ConfigError(message, { ...where, hint });
  while (pos < s.length) {
    const c = s[pos] as string;
    if (c === "'" || c === '"') {
      out += c;
      if (c === "'" && !indoub) insing = !insing;
      if (c === '"' && !insing) indoub = !indoub;
      pos++;
    } else if (insing) {
      out += c;
      pos++;
    } else if (c === '\n') {
      out += ' ';
      pos++;
    } else if (c === '\\') {
      if (pos + 1 >= s.length) {
        out += c;
        break;
      }
      const n = s[pos + 1] as string;
      pos += 2;
      if (n === '$') out += n;
      else if (n === '\\') {
        out += n;
        // Portage keeps this quirk deliberately ("bug-for-bug compatible").
        if (pos < s.length && `'"$`.includes(s[pos] as string)) out += s[pos++];
      } else if (n !== '\n') out += c + n;
    } else if (c === '$') {
      pos++;
      if (pos === s.length) {
        out += '$';
        continue;
      }
      if (s[pos] === '(') throw fail('command substitution is not supported', NO_EXEC_HINT);
      const braced = s[pos] === '{';
      if (braced) pos++;
      const begin = pos;
      while (pos < s.length && VARCHAR.test(s[pos] as string)) pos++;
      const name = s.slice(begin, pos);
      if (braced) {
        if (s[pos] !== '}') {
          const shown = /^[A-Za-z0-9_]{1,64}$/.test(name) ? ` of '${name}'` : '';
          throw fail(
            `unsupported or unterminated \${...} expansion${shown}`,
            'only ${VAR} and $VAR are expanded in make.conf',
          );
        }
        pos++;
      }
      if (name === '')
        throw fail(`bad substitution: '$' without a variable name`, "write '\\$' for a literal dollar sign");
      out += vars.get(name) ?? '';
      if (limit && out.length > limit.max)
        throw fail(`the value expands to more than ${limit.max} characters`, limit.hint);
    } else {
      out += c;
      pos++;
    }
  }
  return out;
}

/**
 * Python's shlex.split(s) (POSIX mode, whitespace_split, no comments), as Portage's fetch() splits
 * FETCHCOMMAND and RESUMECOMMAND after varexpand: quotes group and are removed, a backslash escapes
 * the next character (inside double quotes only `"` and `\`), nothing else is special. The words go
 * to a program as its argv, never through a shell. Unbalanced quotes and a trailing backslash are
 * errors, as in shlex ("No closing quotation", "No escaped character").
 */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let state: ' ' | 'a' | '"' | "'" = ' ';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (state === "'" || state === '"') {
      if (c === state) state = 'a';
      else if (c === '\\' && state === '"') {
        const n = s[++i];
        if (n === undefined) throw new Error('no escaped character after a backslash');
        word += n === '"' || n === '\\' ? n : `\\${n}`;
      } else word += c;
      continue;
    }
    if (WHITESPACE.has(c)) {
      if (inWord) words.push(word);
      [word, inWord, state] = ['', false, ' '];
      continue;
    }
    inWord = true;
    state = 'a';
    if (c === '\\') {
      const n = s[++i];
      if (n === undefined) throw new Error('no escaped character after a backslash');
      word += n;
    } else if (c === "'" || c === '"') state = c;
    else word += c;
  }
  if (state === "'" || state === '"') throw new Error(`no closing ${state === '"' ? 'double' : 'single'} quote`);
  if (inWord) words.push(word);
  return words;
}
