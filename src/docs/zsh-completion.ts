// The zsh completion of gentoo-kopt (`_gentoo-kopt`, installed with dozshcomp), made from the command
// table and the doctor check ids: one _arguments call per command, its specs from the table's options
// and arguments. Kernel versions are globbed at completion time, as in the bash completion.
import { COMMANDS, COMMON_OPTIONS, PROGRAM, type CommandSpec, type OptionSpec } from '../commands/table.js';
import { PLACEHOLDERS } from './completion-model.js';
import { sq } from './bash-completion.js';

/** Text inside an _arguments spec: its special characters escaped. */
const spec = (s: string): string => s.replace(/[\\[\]:]/g, '\\$&');

/** What completes each placeholder kind in zsh (check ids are written into the script). */
const ZSH_ACTIONS: Record<'directory' | 'file' | 'kernel', string> = {
  directory: '_directories',
  file: '_files',
  kernel: '_gentoo-kopt_kernels',
};

function action(placeholder: string | undefined, choices: readonly string[] | undefined, checkIds: readonly string[]) {
  if (choices) return `(${choices.join(' ')})`;
  const kind = PLACEHOLDERS[placeholder ?? ''];
  if (kind === 'check') return `(${checkIds.join(' ')})`;
  return kind ? ZSH_ACTIONS[kind] : ' ';
}

/** The _arguments specs of one option: its long and short forms, exclusive of each other unless repeatable. */
function optionSpecs(o: OptionSpec, checkIds: readonly string[]): string[] {
  const forms = [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])];
  const exclusive = o.multiple ? '*' : forms.length > 1 ? `(${forms.join(' ')})` : '';
  const value = o.type === 'string' ? `:${spec(o.value ?? 'VALUE')}:${action(o.value, o.choices, checkIds)}` : '';
  return forms.map((f) =>
    sq(`${exclusive}${f}${o.type === 'string' && f.startsWith('--') ? '=' : ''}[${spec(o.description)}]${value}`),
  );
}

function commandCase(c: CommandSpec, checkIds: readonly string[]): string {
  const args = c.arguments.map((a, i) => {
    const where = a.multiple ? '*' : String(i + 1);
    return sq(`${where}${a.required ? '' : ':'}:${spec(a.name)}:${action(a.name, undefined, checkIds)}`);
  });
  const specs = [...c.options, ...COMMON_OPTIONS].flatMap((o) => optionSpecs(o, checkIds));
  return [
    `\t\t(${sq(c.name)})`,
    `\t\t\t_arguments -s -S \\`,
    ...[...specs, ...args].map((s) => `\t\t\t\t${s} \\`),
    '\t\t\t\t&& ret=0',
    '\t\t\t;;',
  ].join('\n');
}

const described = (pairs: [string, string][]): string => pairs.map(([w, d]) => sq(`${spec(w)}:${d}`)).join(' ');

const KERNELS = `
# _gentoo-kopt_kernels: the dist-kernel versions (sys-kernel/*-kernel) installed under the root the
# command line names (--root DIR, else ROOT; EPREFIX below it) and offered by the repositories whose
# location its repos.conf names (PORTAGE_CONFIGROOT, or the --root DIR).
_gentoo-kopt_kernels() {
	local given='' root eroot configroot eprefix=\${EPREFIX:-} f line loc i
	local -a confs locations kernels
	for (( i = 1; i < \${#words}; i++ )); do
		case \${words[i]} in
			(--root) given=\${words[i+1]} ;;
			(--root=?*) given=\${words[i]#--root=} ;;
		esac
	done
	[[ \${eprefix} == / ]] && eprefix=''
	if [[ -n \${given} ]]; then
		given=\${~given}
		[[ \${given} == /* ]] || given=\${PWD}/\${given}
		eroot=\${given%/}\${eprefix}
		configroot=\${eroot:-/}
	else
		root=\${ROOT:-/}
		[[ -z \${root//[[:space:]]/} ]] && root=/
		[[ \${root} == /* ]] || root=\${PWD}/\${root}
		eroot=\${root%/}\${eprefix}
		configroot=\${PORTAGE_CONFIGROOT:-\${eprefix:-/}}
	fi
	kernels=( \${eroot}/var/db/pkg/sys-kernel/*-kernel-[0-9]*(N/:t) )
	for f in \${eroot}/usr/share/portage/config/repos.conf \${configroot%/}/etc/portage/repos.conf; do
		if [[ -d \${f} ]]; then confs+=( \${f}/*(N.) ); else confs+=( \${f} ); fi
	done
	for f in \${confs}; do
		[[ -f \${f} && -r \${f} && \${f:t} != .* && \${f} != *~ ]] || continue
		while IFS= read -r line || [[ -n \${line} ]]; do
			[[ \${line} =~ '^[[:space:]]*location[[:space:]]*[=:][[:space:]]*(.*[^[:space:]])' ]] || continue
			loc=\${match[1]}
			locations+=( "\${loc//\\%\\(EPREFIX\\)s/\${eprefix}}" )
		done <\${f}
	done
	(( \${#locations} )) || locations=( \${eprefix}/var/db/repos/gentoo )
	for loc in \${locations}; do
		kernels+=( \${loc}/sys-kernel/*-kernel/*.ebuild(N.:t:r) )
	done
	_wanted kernels expl 'kernel version' compadd -- sys-kernel/\${(u)^kernels}
}
`;

export function zshCompletion(checkIds: readonly string[], commands: readonly CommandSpec[] = COMMANDS): string {
  const heads = [...new Set(commands.map((c) => c.name.split(' ')[0]!))];
  const first = heads.map((h): [string, string] => {
    const one = commands.find((c) => c.name === h);
    return [
      h,
      one
        ? one.summary
        : `${commands
            .filter((c) => c.name.startsWith(`${h} `))
            .map((c) => c.name.split(' ')[1])
            .join(', ')}`,
    ];
  });
  const groups = heads
    .map((h) => [h, commands.filter((c) => c.name.startsWith(`${h} `))] as const)
    .filter(([, cs]) => cs.length > 0)
    .map(([h, cs]) => `\t\t(${sq(h)}) subs=( ${described(cs.map((c) => [c.name.split(' ')[1]!, c.summary]))} ) ;;`);
  return [
    `#compdef ${PROGRAM}`,
    `# zsh completion for ${PROGRAM}(1). Generated from src/commands/table.ts and the doctor check registry`,
    '# by scripts/shell-docs.mjs: do not edit. Installed with dozshcomp.',
    KERNELS,
    `_${PROGRAM}() {`,
    '\tlocal curcontext=$curcontext ret=1 cmd expl',
    '\tlocal -a subs',
    `\tlocal -a commands=( ${described([...first, ['help', 'print the help of a command']])} )`,
    '\tif (( CURRENT == 2 )); then',
    `\t\t_describe -t commands '${PROGRAM} command' commands && ret=0`,
    `\t\tcompadd -- --version -V --help -h && ret=0`,
    '\t\treturn ret',
    '\tfi',
    '\tcmd=${words[2]}',
    '\tcase ${cmd} in',
    ...groups,
    '\tesac',
    '\tif (( ${#subs} )); then',
    '\t\tif (( CURRENT == 3 )); then',
    `\t\t\t_describe -t commands "${PROGRAM} \${cmd} command" subs && ret=0`,
    '\t\t\treturn ret',
    '\t\tfi',
    '\t\tcmd="${words[2]} ${words[3]}"',
    '\t\tshift words',
    '\t\t(( CURRENT-- ))',
    '\tfi',
    '\tshift words',
    '\t(( CURRENT-- ))',
    '\tcurcontext=${curcontext%:*:*}:gentoo-kopt-${cmd// /-}:',
    '\tcase ${cmd} in',
    `\t\t(help) _describe -t commands '${PROGRAM} command' commands && ret=0 ;;`,
    ...commands.map((c) => commandCase(c, checkIds)),
    '\tesac',
    '\treturn ret',
    '}',
    '',
    `_${PROGRAM} "$@"`,
    '',
  ].join('\n');
}
