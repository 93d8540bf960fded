// Every command of gentoo-kopt as data: its words, summary, arguments and options, each with a one-line
// description. src/cli.ts parses argv and prints every --help from this table; scripts (the man page,
// shell completions) import the built dist/commands/table.js the same way. It imports nothing, so loading
// it runs nothing and `--version` and `--help` stay cheap; the command implementations are loaded by cli.ts
// only when one runs.

export interface OptionSpec {
  /** The long name, without the dashes: `root` for `--root`. */
  name: string;
  /** A flag, or an option that takes a value. */
  type: 'boolean' | 'string';
  /** One letter: `-p` for `--pretend`. */
  short?: string;
  /** May be given more than once; the values are collected in order. */
  multiple?: boolean;
  /** The placeholder of the value in usage lines and help: `DIR` in `--root DIR`. */
  value?: string;
  /** The only values accepted, when there is a fixed set (for completions and the man page). */
  choices?: readonly string[];
  /** One line: what the option does. */
  description: string;
}

export interface ArgumentSpec {
  /** The placeholder in usage lines: `CPV`. */
  name: string;
  /** `patches list CPV` needs its CPV; `verify [CPV...]` does not. */
  required: boolean;
  /** Any number of them. */
  multiple: boolean;
  description: string;
}

export interface CommandSpec {
  /** The words that name the command: `sync-patches`, `patches list`. */
  name: string;
  summary: string;
  arguments: readonly ArgumentSpec[];
  /** The command's own options; every command also takes COMMON_OPTIONS. */
  options: readonly OptionSpec[];
}

export const PROGRAM = 'gentoo-kopt';

/** Options every command takes. */
export const COMMON_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'root',
    type: 'string',
    value: 'DIR',
    description: 'act on the Gentoo root DIR (sets ROOT and PORTAGE_CONFIGROOT); default: $ROOT, else /',
  },
  { name: 'json', type: 'boolean', description: 'print a machine-readable report' },
  { name: 'help', type: 'boolean', short: 'h', description: 'print the help of this command and exit' },
  { name: 'quiet', type: 'boolean', short: 'q', description: 'print warnings and errors only, and no progress line' },
  { name: 'verbose', type: 'boolean', short: 'v', description: 'say more: the commands run, the files checked' },
];

/** Options of the program itself, given instead of a command. */
export const PROGRAM_OPTIONS: readonly OptionSpec[] = [
  { name: 'version', type: 'boolean', short: 'V', description: 'print the version and exit' },
  { name: 'help', type: 'boolean', short: 'h', description: 'print this help and exit' },
];

const pretend: OptionSpec = {
  name: 'pretend',
  type: 'boolean',
  short: 'p',
  description: 'show what would change, with a unified diff; write nothing',
};

const hooks = <A extends string>(action: A, summary: string, writes: boolean) =>
  ({
    name: `hooks ${action}`,
    summary,
    arguments: [],
    options: writes ? [pretend] : [],
  }) as const satisfies CommandSpec;

export const COMMANDS = [
  {
    name: 'sync-patches',
    summary: 'install the patch series matching each kernel version into /etc/portage/patches',
    arguments: [],
    options: [
      pretend,
      {
        name: 'force',
        type: 'boolean',
        description: 'also replace or remove series files you edited (they are backed up first)',
      },
      {
        name: 'package',
        type: 'string',
        multiple: true,
        value: 'CPV',
        description: 'also sync this exact version (repeatable); only adds and updates, never prunes',
      },
      {
        name: 'no-verify',
        type: 'boolean',
        description: 'skip the dry run of each series against the kernel sources',
      },
      {
        name: 'no-fetch',
        type: 'boolean',
        description: 'do not download missing series files (the emerge hook never does); see gentoo-kopt fetch',
      },
    ],
  },
  {
    name: 'patches list',
    summary: 'list the patches the next emerge of a package will apply (eapply_user), and from where',
    arguments: [
      {
        name: 'CPV',
        required: true,
        multiple: false,
        description: 'the package version, e.g. sys-kernel/gentoo-kernel-6.12.58 (CPV:SLOT names the slot)',
      },
    ],
    options: [
      {
        name: 'slot',
        type: 'string',
        value: 'SLOT',
        description: "the package's SLOT (default: the installed one; PV for a dist-kernel)",
      },
    ],
  },
  hooks(
    'install',
    'add the gentoo-kopt block to /etc/portage/bashrc and compile kopt.conf into the hook settings',
    true,
  ),
  hooks('uninstall', 'remove the block from /etc/portage/bashrc and the files hooks install wrote', true),
  hooks('status', 'say whether the hook is installed, current and safe (exit 1 if not)', false),
  {
    name: 'verify',
    summary: 'dry-run the patches (--config: the config fragments) on the kernel sources before emerge does',
    arguments: [
      {
        name: 'CPV',
        required: false,
        multiple: true,
        description:
          'the versions to verify (default: every version sync-patches works on); patch files with --tarball',
      },
    ],
    options: [
      {
        name: 'patches',
        type: 'string',
        multiple: true,
        value: 'DIR|FILE',
        description:
          "verify these patches (repeatable; a directory's *.patch and *.diff in C order), not eapply_user's",
      },
      {
        name: 'source',
        type: 'string',
        value: 'DIR',
        description: 'verify against this unpacked kernel tree instead of the distfiles',
      },
      {
        name: 'tarball',
        type: 'string',
        value: 'FILE',
        description: 'verify the patches against this kernel tarball (.tar, .tar.gz, .tar.xz) instead of the distfiles',
      },
      {
        name: 'confirm',
        type: 'boolean',
        description: 'also run GNU patch on a scratch copy of the touched files and compare its verdict',
      },
      {
        name: 'config',
        type: 'boolean',
        description:
          "instead of patches: which options of etc/kernel/config.d survive the kernel's own olddefconfig, and why not",
      },
      {
        name: 'base-config',
        type: 'string',
        value: 'FILE',
        description: "with --config --tarball: the base .config (default: the tree's defconfig for this arch)",
      },
      {
        name: 'toolchain',
        type: 'string',
        value: 'NAME',
        choices: ['gnu', 'llvm'],
        description: "with --config: the toolchain Kconfig probes (llvm: LLVM=1); default kopt.conf's, else gnu",
      },
    ],
  },
  {
    name: 'doctor',
    summary: 'check toolchain, flags, hooks, patches and kernel config: each finding with where, what and the fix',
    arguments: [],
    options: [
      {
        name: 'check',
        type: 'string',
        multiple: true,
        value: 'ID',
        description: 'run only this check (repeatable); --list shows the ids',
      },
      {
        name: 'list',
        type: 'boolean',
        description: 'list the checks and the findings each can report, and exit',
      },
      {
        name: 'exit',
        type: 'string',
        value: 'LEVEL',
        choices: ['error', 'warning'],
        description: 'exit 1 on a finding at this level or above: error (the default) or warning',
      },
    ],
  },
  {
    name: 'rollback',
    summary: 'undo the last transaction (restore every file it replaced or removed)',
    arguments: [],
    options: [
      { ...pretend, description: 'show what would be restored and removed; write nothing' },
      {
        name: 'force',
        type: 'boolean',
        description: 'also overwrite files changed since the transaction (their content is backed up first)',
      },
    ],
  },
  {
    name: 'fetch',
    summary: 'download the series files the targets need into the cache, as Portage fetches distfiles',
    arguments: [],
    options: [
      {
        name: 'package',
        type: 'string',
        multiple: true,
        value: 'CPV',
        description: 'also fetch for this exact version (repeatable)',
      },
    ],
  },
  {
    name: 'init',
    summary: 'write a commented kopt.conf for this system (installed dist-kernels, LLVM slot, LTO)',
    arguments: [],
    options: [{ ...pretend, description: 'show the kopt.conf init would write, as a diff; write nothing' }],
  },
  // pgo: profile-guided kernels (src/commands/pgo.ts)
  {
    name: 'pgo instrument',
    summary: 'build the next kernel with profiling (gcov, or Clang AutoFDO/Propeller) to record a profile',
    arguments: [],
    options: [
      pretend,
      {
        name: 'package',
        type: 'string',
        value: 'CPN',
        description: "the kernel package (default: kopt.conf's only one)",
      },
      {
        name: 'autofdo',
        type: 'boolean',
        description: 'Clang AutoFDO (toolchain = llvm, kernel 6.13+) instead of gcov',
      },
      { name: 'propeller', type: 'boolean', description: 'Clang AutoFDO and Propeller (clang 19+, x86_64)' },
    ],
  },
  {
    name: 'pgo collect',
    summary: "copy the running kernel's gcov profile (/sys/kernel/debug/gcov) into the profile store",
    arguments: [],
    options: [
      pretend,
      {
        name: 'from',
        type: 'string',
        value: 'DIR',
        description: 'read this copy of the gcov tree instead of ${ROOT}/sys/kernel/debug/gcov',
      },
      {
        name: 'package',
        type: 'string',
        value: 'CPV',
        description: 'the version the kernel was built from (default: read from its build directory)',
      },
    ],
  },
  {
    name: 'pgo use',
    summary: "build the package's next kernel of the profile's version with the profile",
    arguments: [
      {
        name: 'CPV',
        required: false,
        multiple: false,
        description: "the profile, e.g. sys-kernel/gentoo-kernel-6.12.58 (default: the package's newest)",
      },
    ],
    options: [
      pretend,
      {
        name: 'package',
        type: 'string',
        value: 'CPN',
        description: "the kernel package (default: kopt.conf's only one)",
      },
      {
        name: 'for',
        type: 'string',
        value: 'PV',
        description: "apply it to this version of the same kernel line instead of the profile's own (see README)",
      },
      {
        name: 'force',
        type: 'boolean',
        description: 'also replace or remove a pgo fragment you edited (backed up first)',
      },
    ],
  },
  {
    name: 'pgo status',
    summary: 'show what pgo set up for each package and the profiles in the store',
    arguments: [],
    options: [],
  },
  {
    name: 'pgo off',
    summary: 'stop instrumenting or profiling the package (the profile store is kept)',
    arguments: [],
    options: [
      pretend,
      { name: 'package', type: 'string', value: 'CPN', description: 'the kernel package (default: the only one set)' },
      { name: 'force', type: 'boolean', description: 'also remove a pgo fragment you edited (backed up first)' },
    ],
  },
  {
    name: 'pgo record',
    summary: 'record branch samples of the running kernel while COMMAND runs (perf, for AutoFDO/Propeller)',
    arguments: [
      {
        name: 'COMMAND',
        required: true,
        multiple: true,
        description: 'the workload, after --: pgo record -- make -j8',
      },
    ],
    options: [
      { ...pretend, description: 'show the perf command; run nothing' },
      { name: 'output', type: 'string', value: 'FILE', description: 'the perf data file (default: ./perf.data)' },
    ],
  },
  {
    name: 'pgo convert',
    summary: "turn recorded perf data into the AutoFDO (and Propeller) profile of the running kernel's version",
    arguments: [],
    options: [
      pretend,
      { name: 'perf-data', type: 'string', value: 'FILE', description: 'the perf data (default: ./perf.data)' },
      {
        name: 'vmlinux',
        type: 'string',
        value: 'FILE',
        description: 'the running kernel (default: /usr/src/linux-<release>/vmlinux, installed with USE=debug)',
      },
      {
        name: 'package',
        type: 'string',
        value: 'CPV',
        description: "the version it was recorded on (default: the running kernel's)",
      },
    ],
  },
] as const satisfies readonly CommandSpec[];

/** `sync-patches`, `patches list`, ...: cli.ts has one runner for each. */
export type CommandName = (typeof COMMANDS)[number]['name'];
