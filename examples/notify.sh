#!/bin/sh
# An example action: eventd runs it with the event as JSON on stdin and
# EVENTD_* variables in the environment. EVENTD_EVENT_ID is unique per
# event, so a script can skip an event it already handled (delivery is at
# least once across restarts).
log="${NOTIFY_LOG:-/tmp/eventd-notify.log}"
printf '%s %s %s %s on %s: %s (percentUsed=%s)\n' \
  "$EVENTD_TIME" "$EVENTD_EVENT_ID" "$EVENTD_EVENT_TYPE" "$EVENTD_SUBSCRIPTION" \
  "$EVENTD_NODE" "$EVENTD_RESOURCE" "${EVENTD_ATTR_PERCENT_USED:-?}" >> "$log"
