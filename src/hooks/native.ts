// native = yes, as the hook applies it (hooks/kernel-hook.bash, _kopt_has_native_cpu): kernels from
// 6.16 on have CONFIG_X86_NATIVE_CPU (the native fragment turns it on), older ones get -march=native
// appended to kopt.conf's kcflags. One rule for the hook's KCFLAGS and for doctor's idea of them.
import type { Settings } from '../config/kopt-conf.js';

/** PV (6.16.2, 6.16_rc3, 6.18.32_p1) is 6.16 or later; a PV that does not parse counts as older. */
export function hasNativeCpuOption(pv: string): boolean {
  const m = /^([0-9]+)\.([0-9]+)/.exec(pv);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 6 || (major === 6 && minor >= 16);
}

/** The KCFLAGS the hook exports for a kernel of version `pv` ('' : it leaves KCFLAGS alone). */
export function hookKcflags(s: Pick<Settings, 'kcflags' | 'native'>, pv: string): string {
  if (!s.native || hasNativeCpuOption(pv)) return s.kcflags;
  return s.kcflags ? `${s.kcflags} -march=native` : '-march=native';
}
