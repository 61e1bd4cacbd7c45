#!/bin/sh
# pvesim stand-in for pip/pip3. `pip install PKG...` (also -r FILE) records PKG as
# /var/lib/pvesim/pip/PKG (content: the version); `pip list`, `pip freeze` and `pip show` read
# them back.
set -u
DB=/var/lib/pvesim/pip
mkdir -p "$DB"
cmd=""; pkgs=""; req=""
while [ $# -gt 0 ]; do
    case "$1" in
        -r|--requirement) shift; req=${1:-} ;;
        -V|--version) echo "pip 23.0.1 from /usr/lib/python3/dist-packages/pip (python 3.11)"; exit 0 ;;
        -*) ;;
        *) if [ -z "$cmd" ]; then cmd=$1; else pkgs="$pkgs $1"; fi ;;
    esac
    shift
done
if [ -n "$req" ]; then
    [ -f "$req" ] || { echo "ERROR: Could not open requirements file: [Errno 2] No such file or directory: '$req'" >&2; exit 1; }
    pkgs="$pkgs $(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e '/^-/d' "$req" | tr '\n' ' ')"
fi
norm() { printf '%s\n' "$1" | sed -e 's/\[.*\]//' | tr 'A-Z_' 'a-z-'; }
case "$cmd" in
    install)
        done_list=""
        for spec in $pkgs; do
            case "$spec" in
                *==*) name=${spec%%==*}; ver=${spec#*==} ;;
                *">="*) name=${spec%%>=*}; ver=${spec#*>=} ;;
                *) name=$spec; ver=1.0.0 ;;
            esac
            name=$(norm "$name")
            echo "Collecting $name"
            echo "$ver" > "$DB/$name"
            done_list="$done_list $name-$ver"
        done
        [ -n "$done_list" ] && echo "Successfully installed$done_list" ;;
    uninstall)
        for p in $pkgs; do p=$(norm "$p"); rm -f "$DB/$p"; echo "  Successfully uninstalled $p"; done ;;
    list)
        printf '%-20s %s\n' Package Version
        printf '%-20s %s\n' -------------------- -------
        for f in "$DB"/*; do [ -f "$f" ] && printf '%-20s %s\n' "$(basename "$f")" "$(cat "$f")"; done ;;
    freeze)
        for f in "$DB"/*; do [ -f "$f" ] && echo "$(basename "$f")==$(cat "$f")"; done ;;
    show)
        rc=0
        for p in $pkgs; do
            p=$(norm "$p")
            if [ -f "$DB/$p" ]; then
                printf 'Name: %s\nVersion: %s\nLocation: /usr/local/lib/python3.11/dist-packages\n' "$p" "$(cat "$DB/$p")"
            else
                echo "WARNING: Package(s) not found: $p" >&2; rc=1
            fi
        done
        exit $rc ;;
    "") echo "Usage: pip <command> [options]" >&2; exit 1 ;;
    *) echo "ERROR: unknown command \"$cmd\"" >&2; exit 1 ;;
esac
exit 0
