#!/usr/bin/env bash
# Usage: scripts/is-static-elf.sh FILE
# Exits 0 when FILE is an ELF executable the kernel can run without a dynamic loader (no PT_INTERP program header:
# static or static-pie), 1 when it is dynamically linked, not ELF or unreadable. A test VM's initramfs holds no
# ld.so, so only such binaries work there. Reads the ELF headers with od (coreutils), so it needs neither file(1)
# nor binutils, and works for 32- and 64-bit, little- and big-endian ELF.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 FILE" >&2; exit 2; }
elf=$1
[ -f "$elf" ] && [ -r "$elf" ] || exit 1

# bytes OFFSET COUNT: the file's bytes there as unsigned decimals, one per word; fewer if the file is shorter.
bytes() {
    od -An -v -t u1 -j "$1" -N "$2" -- "$elf" 2>/dev/null || true
}

ident=($(bytes 0 6))
[ "${#ident[@]}" -eq 6 ] || exit 1
[ "${ident[0]} ${ident[1]} ${ident[2]} ${ident[3]}" = "127 69 76 70" ] || exit 1 # \x7fELF
class=${ident[4]}   # 1: 32-bit, 2: 64-bit
endian=${ident[5]}  # 1: little, 2: big
case "$class$endian" in 11 | 12 | 21 | 22) ;; *) exit 1 ;; esac

# uint OFFSET SIZE: an unsigned integer of the file's byte order.
uint() {
    local b=($(bytes "$1" "$2")) value=0 i
    [ "${#b[@]}" -eq "$2" ] || exit 1
    if [ "$endian" -eq 1 ]; then
        for ((i = $2 - 1; i >= 0; i--)); do value=$((value * 256 + b[i])); done
    else
        for ((i = 0; i < $2; i++)); do value=$((value * 256 + b[i])); done
    fi
    echo "$value"
}

if [ "$class" -eq 2 ]; then
    type=$(uint 16 2) phoff=$(uint 32 8) phentsize=$(uint 54 2) phnum=$(uint 56 2)
else
    type=$(uint 16 2) phoff=$(uint 28 4) phentsize=$(uint 42 2) phnum=$(uint 44 2)
fi
case "$type" in 2 | 3) ;; *) exit 1 ;; esac # ET_EXEC or ET_DYN (PIE); not a relocatable object or a core file
[ "$phnum" -gt 0 ] && [ "$phentsize" -ge 4 ] || exit 1

for ((i = 0; i < phnum; i++)); do
    p_type=$(uint $((phoff + i * phentsize)) 4) # a table cut short ends the script with status 1 (set -e)
    if [ "$p_type" -eq 3 ]; then # PT_INTERP: names the dynamic loader
        exit 1
    fi
done
exit 0
