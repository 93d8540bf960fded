#!/bin/busybox sh
# PID 1 of the initramfs that test/pgo/run.sh boots in QEMU (static busybox, nothing else).
#
# 1. mounts devtmpfs, proc, sysfs and debugfs;
# 2. runs a small deterministic workload (file create/append/copy/rename/unlink, directories, pipes,
#    fork+exec of busybox applets, reads of /proc and /sys);
# 3. if the kernel has gcov (/sys/kernel/debug/gcov), copies the tree as gentoo-kopt `pgo collect`
#    will: every .gcda read with `cat` (debugfs reports size 0 for them, so anything that trusts
#    st_size, like tar, copies nothing) and every .gcno symlink re-created as a symlink, then sends
#    a gzipped tar of the copy, base64-encoded, over the second serial port (/dev/ttyS1), framed as
#        KOPT-GCOV-BEGIN <md5 of the .tar.gz> <size in bytes>
#        <base64 lines>
#        KOPT-GCOV-END
# 4. reboots (QEMU runs with -no-reboot, so that ends QEMU).
# Lines for the host start with "KOPT: " on the console (ttyS0).
/bin/busybox --install -s /bin
export PATH=/bin

mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

say() { echo "KOPT: $*"; }
say "booted $(uname -r)"

workload() {
	mkdir -p /tmp/w && cd /tmp/w || return 1
	i=0
	while [ "${i}" -lt 150 ]; do
		echo "line ${i} of the gentoo-kopt pgo workload" >> log.txt
		cp log.txt copy.txt
		mv copy.txt moved.txt
		cat moved.txt > /dev/null
		rm moved.txt
		mkdir "d${i}" && rmdir "d${i}"
		i=$((i + 1))
	done
	seq 1 20000 | sort -r | uniq | md5sum
	dd if=/dev/zero bs=4096 count=512 2> /dev/null | gzip -1 | gunzip | wc -c
	find /proc/self /sys/kernel -maxdepth 2 > /dev/null 2>&1
	cd / && rm -rf /tmp/w
}
say "workload: $(workload | tr '\n' ' ')"
say "workload done"

g=/sys/kernel/debug/gcov
if [ -d "${g}" ]; then
	say "gcov: $(find "${g}" -name '*.gcda' | wc -l) .gcda files, $(find "${g}" -name '*.gcno' -type l | wc -l) .gcno symlinks"
	f=$(find "${g}" -path '*/init/main.gcda' | head -n 1)
	say "gcov sample: ${f#"${g}"}"
	say "gcov sizes: stat=$(stat -c %s "${f}") cat=$(cat "${f}" | wc -c) cp=$(cp "${f}" /cp.gcda && wc -c < /cp.gcda) tar=$(tar -cf - "${f}" 2> /dev/null | tar -tvf - | awk '{print $3}')"
	say "gcov link: ${f%.gcda}.gcno -> $(readlink "${f%.gcda}.gcno")"
	say "gcov top: $(ls -a "${g}" | tr '\n' ' ')"
	mkdir /copy
	find "${g}" \( -name '*.gcda' -o -name '*.gcno' \) | while read -r f; do
		rel=${f#"${g}"/}
		mkdir -p "/copy/${rel%/*}"
		if [ -L "${f}" ]; then
			ln -s "$(readlink "${f}")" "/copy/${rel}"
		else
			cat "${f}" > "/copy/${rel}"
		fi
	done
	tar -C /copy -czf /gcov.tar.gz .
	{
		echo "KOPT-GCOV-BEGIN $(md5sum < /gcov.tar.gz | cut -d' ' -f1) $(wc -c < /gcov.tar.gz)"
		base64 /gcov.tar.gz
		echo "KOPT-GCOV-END"
	} > /dev/ttyS1
	say "gcov sent: $(wc -c < /gcov.tar.gz) bytes"
else
	say "no gcov in this kernel"
fi
sync
say "rebooting"
reboot -f
