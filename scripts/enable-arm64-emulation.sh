#!/usr/bin/env bash
# Lets this amd64 machine run linux/arm64 binaries, as the arm64 image test needs (stand-ins built with
# debootstrap --arch arm64, `podman build --platform linux/arm64`, the image run under emulation): the kernel's
# binfmt_misc hands arm64 executables to Debian's qemu-user-static. Root only; safe to run again.
#
# The handler must have the F (fix binary) flag: the kernel then opens the emulator once, here, so that a chroot or
# container, which has no emulator inside, still runs arm64 programs (without F, podman says `exec /nodejs/bin/node:
# no such file or directory` for a file that is there). Debian's package registers it so
# (/usr/lib/binfmt.d/qemu-aarch64.conf, flags OPF), but only if binfmt_misc is mounted when it is installed; a
# machine without systemd may not mount it at all.
set -euo pipefail

dir=/proc/sys/fs/binfmt_misc
entry="$dir/qemu-aarch64"
conf=/usr/lib/binfmt.d/qemu-aarch64.conf

[ -e "$conf" ] || { echo "enable-arm64-emulation: $conf is missing: apt-get install -y qemu-user-static" >&2; exit 1; }
[ -e "$dir/register" ] || mount -t binfmt_misc binfmt_misc "$dir"

ready() { [ -e "$entry" ] && grep -qx enabled "$entry" && grep -Eq '^flags: [A-Z]*F' "$entry"; }
ready && exit 0

# Registered without F, or disabled: drop it and register the package's own line, with F if it lacks it.
[ -e "$entry" ] && echo -1 >"$entry"
line=$(grep -v '^#' "$conf" | grep -m1 '^:qemu-aarch64:')
case "${line##*:}" in *F*) ;; *) line="${line}F" ;; esac
printf '%s\n' "$line" >"$dir/register"
ready || { echo "enable-arm64-emulation: $entry is not enabled with the F flag after registering it" >&2; exit 1; }
