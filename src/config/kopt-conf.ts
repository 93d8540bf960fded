// kopt.conf: ${PORTAGE_CONFIGROOT}/etc/gentoo-kopt/kopt.conf, read strictly (ini-lines.ts) and checked
// against the key table (schema.ts). Global keys come first; `[category/package]` sections override
// them for one of the configured packages. Every problem is a ConfigError naming file and line.
import { ConfigError } from '../errors.js';
import { koptConfigPath, type Roots } from '../portage/roots.js';
import { closest, parseIniLines, readConfigText, type IniSection } from './ini-lines.js';
import { defaultSettings, invalidCpn, InvalidValue, KEYS, KEYS_BY_NAME, type Settings } from './schema.js';

export type { Harden, KconfigValue, Lto, MixedToolchain, Optimize, Settings, Toolchain } from './schema.js';

export type KeyLines = Partial<Record<keyof Settings, number>>;

export interface SectionConfig {
  line: number;
  values: Partial<Settings>;
  lines: KeyLines;
}

export interface KoptConfig {
  file: string;
  exists: boolean;
  global: Settings;
  sections: Map<string, SectionConfig>;
  /** Lines of the keys set in the global part. */
  lines: KeyLines;
}

function readSection(
  section: IniSection,
  file: string,
  global: boolean,
): { values: Partial<Settings>; lines: KeyLines } {
  const values: Record<string, unknown> = {};
  const lines: KeyLines = {};
  for (const { key, value, line } of section.entries) {
    const spec = KEYS_BY_NAME.get(key);
    if (!spec) {
      const near = closest(
        key,
        KEYS.map((k) => k.name),
      );
      throw new ConfigError(`unknown key '${key}'`, {
        file,
        line,
        hint: near ? `did you mean '${near}'?` : `known keys: ${KEYS.map((k) => k.name).join(', ')}`,
      });
    }
    if (spec.globalOnly && !global) {
      throw new ConfigError(`'${key}' may only be set in the global part, before the first [section]`, {
        file,
        line,
        hint: spec.globalWhy ? `${spec.globalWhy} (above line ${section.line})` : `move it above line ${section.line}`,
      });
    }
    const previous = lines[spec.field];
    if (previous !== undefined) {
      throw new ConfigError(`'${key}' is already set at line ${previous}`, {
        file,
        line,
        hint: 'keep one of the two lines',
      });
    }
    try {
      values[spec.field] = spec.parse(value, { file });
    } catch (err) {
      if (!(err instanceof InvalidValue)) throw err;
      throw new ConfigError(`${key}: ${err.message}`, { file, line, hint: err.hint });
    }
    lines[spec.field] = line;
  }
  return { values: values as Partial<Settings>, lines };
}

export function parseConfig(text: string, file: string): KoptConfig {
  const [head, ...rest] = parseIniLines(text, file);
  const globalPart = readSection(head!, file, true);
  const global = { ...defaultSettings(), ...globalPart.values } as Settings;
  const sections = new Map<string, SectionConfig>();
  for (const section of rest) {
    const why = invalidCpn(section.name);
    if (why) {
      throw new ConfigError(`invalid section [${section.name}]: ${why}`, {
        file,
        line: section.line,
        hint: 'sections name one of the configured packages, e.g. [sys-kernel/vanilla-kernel]',
      });
    }
    if (!global.packages.includes(section.name)) {
      const near = closest(section.name, global.packages);
      throw new ConfigError(
        `section [${section.name}] is not one of the configured packages (${global.packages.join(' ')})`,
        {
          file,
          line: section.line,
          hint: near ? `did you mean [${near}]?` : `add ${section.name} to 'packages' at the top of the file`,
        },
      );
    }
    const earlier = sections.get(section.name);
    if (earlier) {
      throw new ConfigError(`section [${section.name}] already appears at line ${earlier.line}`, {
        file,
        line: section.line,
        hint: 'merge the two sections into one',
      });
    }
    sections.set(section.name, { line: section.line, ...readSection(section, file, false) });
  }
  return { file, exists: true, global, sections, lines: globalPart.lines };
}

/** Reads kopt.conf under the config root; a missing file means all defaults. */
export async function loadConfig(roots: Roots): Promise<KoptConfig> {
  const file = koptConfigPath(roots, 'kopt.conf');
  const text = await readConfigText(file, 'kopt.conf');
  if (text === undefined) return { file, exists: false, global: defaultSettings(), sections: new Map(), lines: {} };
  return parseConfig(text, file);
}

/**
 * The settings for one package: the global ones, overridden by its [cpn] section. Its kcflags are the
 * KCFLAGS builds get: with a cpu-baseline, -march=<level> replaces any -march= of kcflags, at the end
 * (a binary-package host builds for its clients' oldest CPU; -mtune= and the rest stay).
 */
export function settingsFor(config: KoptConfig, cpn: string): Settings {
  const section = config.sections.get(cpn);
  const s = structuredClone(section ? { ...config.global, ...section.values } : config.global);
  if (s.cpuBaseline !== 'none')
    s.kcflags = [...s.kcflags.split(' ').filter((w) => w && !w.startsWith('-march=')), `-march=${s.cpuBaseline}`].join(
      ' ',
    );
  return s;
}

/** Where a setting's value comes from: the line that sets it, or just the file for a default. */
export function whereIs(config: KoptConfig, key: keyof Settings, cpn?: string): { file: string; line?: number } {
  const sectionLine = cpn === undefined ? undefined : config.sections.get(cpn)?.lines[key];
  const line = sectionLine ?? config.lines[key];
  return line === undefined ? { file: config.file } : { file: config.file, line };
}
