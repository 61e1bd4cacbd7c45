#!/bin/sh
# pvesim stand-in for journalctl. The systemctl stand-in writes what systemd would log about a
# unit (starting, stopping, a killed main process) to /var/lib/pvesim/journal as `UNIT<TAB>LINE`;
# `-u UNIT` (repeatable; `.service` added to a bare name) keeps those units' lines and
# `-n N` the last N. Other options are accepted and ignored.
set -u
JOURNAL=/var/lib/pvesim/journal
units=""; lines=""; quiet=0
unit_name() { case "$1" in *.*) printf '%s\n' "$1" ;; *) printf '%s.service\n' "$1" ;; esac; }
while [ $# -gt 0 ]; do
    case "$1" in
        -u|--unit) shift; units="$units $(unit_name "${1:-}")" ;;
        --unit=*) units="$units $(unit_name "${1#--unit=}")" ;;
        -u*) units="$units $(unit_name "${1#-u}")" ;;
        -n|--lines)
            case "${2:-}" in [0-9]*|all) shift; lines=$1 ;; *) lines=10 ;; esac ;;
        --lines=*) lines=${1#--lines=} ;;
        -n*) lines=${1#-n} ;;
        -q|--quiet) quiet=1 ;;
        *) ;;
    esac
    shift
done
[ "$lines" = all ] && lines=""
found=$(awk -F '\t' -v units="$units" '
    BEGIN { n = split(units, u, " "); for (i = 1; i <= n; i++) want[u[i]] = 1 }
    n == 0 || ($1 in want) { sub(/^[^\t]*\t/, ""); print }' "$JOURNAL" 2>/dev/null)
if [ -n "$lines" ]; then
    found=$(printf '%s\n' "$found" | tail -n "$lines")
fi
if [ -z "$found" ]; then
    [ $quiet -eq 1 ] || echo "-- No entries --"
else
    printf '%s\n' "$found"
fi
