#!/bin/sh
# Writes a recorded proc root (swaps + meminfo) with one 1 GiB swap device at
# PERCENT used, so the PagingSpace producer can be pushed across a threshold
# on any machine. Usage: examples/set-swap.sh PERCENT [PROC_ROOT]
set -eu
percent="${1:?usage: set-swap.sh PERCENT [PROC_ROOT]}"
root="${2:-$(dirname "$0")/demo-proc}"
size=1048576
used=$((size * percent / 100))
mkdir -p "$root"
# Write then rename, so the producer never reads a half-written file.
printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/demo0                              partition\t%s\t\t%s\t\t-2\n' "$size" "$used" > "$root/swaps.tmp"
printf 'SwapTotal:       %s kB\nSwapFree:        %s kB\n' "$size" "$((size - used))" > "$root/meminfo.tmp"
mv "$root/swaps.tmp" "$root/swaps"
mv "$root/meminfo.tmp" "$root/meminfo"
echo "paging space at ${percent}% in $root"
