#!/bin/sh
# set-swap.sh NODE PERCENT: moves the recorded paging space of a demo node (npm run demo).
set -eu
node_name=${1:?usage: set-swap.sh NODE PERCENT}
percent=${2:?usage: set-swap.sh NODE PERCENT}
proc="$(dirname "$0")/run/$node_name/proc"
[ -d "$proc" ] || { echo "no demo node $node_name (start npm run demo first)" >&2; exit 1; }
size=1048576
used=$((size * percent / 100))
printf 'Filename Type Size Used Priority\n/swapfile file %d %d -2\n' "$size" "$used" > "$proc/swaps.tmp" && mv "$proc/swaps.tmp" "$proc/swaps"
printf 'SwapTotal: %d kB\nSwapFree: %d kB\n' "$size" $((size - used)) > "$proc/meminfo.tmp" && mv "$proc/meminfo.tmp" "$proc/meminfo"
echo "$node_name paging space at $percent%"
