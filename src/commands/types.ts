import type { Style } from '../output.js';
import type { Roots } from '../portage/roots.js';

/** What every command receives: the resolved roots and the common flags. */
export interface CommandContext {
  roots: Roots;
  /** Process environment the command may consult (never process.env directly, for tests). */
  env: NodeJS.ProcessEnv;
  json: boolean;
  /** Output is a terminal (progress lines, colour). */
  tty: boolean;
  /** Shows a progress line (the CLI passes one on a terminal); '' clears it. */
  progress?: (line: string) => void;
  /** Colour, --quiet and --verbose (src/output.ts); plain text when absent. */
  style?: Style;
}

/** What a command returns: data, the text rendering of it, and the exit status it implies. */
export interface CommandResult<T = unknown> {
  data: T;
  text: string;
  exitCode: number;
  /** Pre-rendered --json output (doctor: one JSON object per line), printed instead of JSON.stringify(data). */
  jsonText?: string;
}
