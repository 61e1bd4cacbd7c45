#!/bin/sh
# pvesim stand-in for dpkg-query and dpkg (-s, -l, -W): reads what the apt-get stand-in
# recorded in /var/lib/dpkg-sim/installed.
set -u
DB=/var/lib/dpkg-sim/installed
mode=""; fmt='${Package}\t${Version}\n'; pkgs=""
while [ $# -gt 0 ]; do
    case "$1" in
        -s|--status) mode=status ;;
        -l|--list) mode=list ;;
        -W|--show) mode=show ;;
        -f|--showformat) shift; fmt=${1:-} ;;
        --showformat=*|-f=*) fmt=${1#*=} ;;
        --version) echo "Debian 'dpkg-query' package management program query tool version 1.21.22 (amd64)."; exit 0 ;;
        -*) ;;
        *) pkgs="$pkgs $1" ;;
    esac
    shift
done
rc=0
case "$mode" in
    status)
        for p in $pkgs; do
            if [ -f "$DB/$p" ]; then
                printf 'Package: %s\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: %s\n\n' "$p" "$(cat "$DB/$p")"
            else
                echo "dpkg-query: package '$p' is not installed and no information is available" >&2; rc=1
            fi
        done ;;
    list)
        echo "Desired=Unknown/Install/Remove/Purge/Hold"
        echo "| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend"
        echo "|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)"
        echo "||/ Name           Version        Architecture Description"
        echo "+++-==============-==============-============-============"
        if [ -z "$pkgs" ]; then pkgs=$(ls -1 "$DB" 2>/dev/null); fi
        for p in $pkgs; do
            if [ -f "$DB/$p" ]; then
                printf 'ii  %-14s %-14s amd64        %s\n' "$p" "$(cat "$DB/$p")" "$p"
            else
                echo "dpkg-query: no packages found matching $p" >&2; rc=1
            fi
        done ;;
    show)
        if [ -z "$pkgs" ]; then pkgs=$(ls -1 "$DB" 2>/dev/null); fi
        for p in $pkgs; do
            if [ -f "$DB/$p" ]; then
                v=$(cat "$DB/$p")
                awk -v fmt="$fmt" -v p="$p" -v v="$v" '
                    function rep(s, from, to,    i, out) {
                        out = ""
                        while ((i = index(s, from)) > 0) { out = out substr(s, 1, i - 1) to; s = substr(s, i + length(from)) }
                        return out s
                    }
                    BEGIN {
                        f = rep(fmt, "${Package}", p); f = rep(f, "${binary:Package}", p); f = rep(f, "${Version}", v)
                        f = rep(f, "${Status}", "install ok installed"); f = rep(f, "${db:Status-Abbrev}", "ii ")
                        f = rep(f, "${db:Status-Status}", "installed")
                        printf "%s", f
                    }'
            else
                echo "dpkg-query: no packages found matching $p" >&2; rc=1
            fi
        done ;;
    *) echo "dpkg-query: need an action option" >&2; rc=2 ;;
esac
exit $rc
