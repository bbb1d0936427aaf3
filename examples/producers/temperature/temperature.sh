#!/bin/sh
# An eventd executable producer in plain sh: run once per period, one JSON
# sample per line on stdout. EVENTD_SYS_ROOT is /sys unless configured.
sys="${EVENTD_SYS_ROOT:-/sys}"
for zone in "$sys"/class/thermal/thermal_zone*; do
  [ -r "$zone/temp" ] || continue
  milli=$(cat "$zone/temp" 2>/dev/null) || continue
  type=$(cat "$zone/type" 2>/dev/null || basename "$zone")
  # millidegrees to degrees with one decimal, in integer arithmetic (no bc needed).
  whole=$((milli / 1000))
  tenth=$(( (milli % 1000) / 100 ))
  printf '{"resource":"%s","attrs":{"celsius":%d.%d,"zone":"%s"}}\n' "$type" "$whole" "$tenth" "$(basename "$zone")"
done
