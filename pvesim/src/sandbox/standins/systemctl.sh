#!/bin/sh
# pvesim stand-in for systemctl. Units are unit files in the usual directories; whether a unit
# is enabled, active or failed is a marker file under /var/lib/pvesim/systemd/{enabled,active,
# failed}/UNIT. Ports a running unit listens on are declared in /etc/pvesim/ports/UNIT.ports
# (see `ss`). What systemd would log about a unit (starting, stopping, a killed main process)
# goes to /var/lib/pvesim/journal as `UNIT<TAB>LINE` (see `journalctl`).
# `systemctl kill -s KILL UNIT` fails a running unit as a crash would.
set -u
STATE=/var/lib/pvesim/systemd
JOURNAL=/var/lib/pvesim/journal
UNIT_DIRS="/etc/systemd/system /run/systemd/system /usr/local/lib/systemd/system /lib/systemd/system /usr/lib/systemd/system"
mkdir -p "$STATE/enabled" "$STATE/active" "$STATE/failed" 2>/dev/null

unit_name() { case "$1" in *.service|*.socket|*.timer|*.target|*.mount|*.path|*.slice|*.scope) printf '%s\n' "$1" ;; *) printf '%s.service\n' "$1" ;; esac; }
unit_file() { for d in $UNIT_DIRS; do if [ -f "$d/$1" ]; then printf '%s\n' "$d/$1"; return 0; fi; done; return 1; }
known() { unit_file "$1" >/dev/null || [ -e "$STATE/active/$1" ] || [ -e "$STATE/enabled/$1" ]; }
description() {
    f=$(unit_file "$1") || { printf '%s\n' "$1"; return; }
    d=$(sed -n 's/^Description=//p' "$f" | head -n 1)
    printf '%s\n' "${d:-$1}"
}
active_state() {
    if [ -e "$STATE/active/$1" ]; then echo active
    elif [ -e "$STATE/failed/$1" ]; then echo failed
    else echo inactive; fi
}
sub_state() {
    if [ -e "$STATE/active/$1" ]; then
        case "$1" in *.service) echo running ;; *.timer) echo waiting ;; *.socket) echo listening ;; *) echo active ;; esac
    elif [ -e "$STATE/failed/$1" ]; then
        echo failed
    else
        echo dead
    fi
}
# journal UNIT MESSAGE: one line as systemd logs it about UNIT.
journal() {
    printf '%s\t%s %s systemd[1]: %s\n' "$1" "$(date '+%b %d %H:%M:%S')" \
        "$(cat /etc/hostname 2>/dev/null || echo localhost)" "$2" >>"$JOURNAL"
}
enabled_state() { if [ -e "$STATE/enabled/$1" ]; then echo enabled; elif known "$1"; then echo disabled; else echo not-found; fi; }
all_units() {
    for d in $UNIT_DIRS; do [ -d "$d" ] && ls -1 "$d" 2>/dev/null; done
    ls -1 "$STATE/active" "$STATE/enabled" "$STATE/failed" 2>/dev/null
}

type_filter=""; state_filter=""; legend=1; plain=0; all=0; now=0; quiet=0; props=""; value=0
signal=TERM
cmd=""; units=""
while [ $# -gt 0 ]; do
    case "$1" in
        --type=*) type_filter=${1#--type=} ;;
        -t|--type) shift; type_filter=${1:-} ;;
        --state=*) state_filter=${1#--state=} ;;
        --state) shift; state_filter=${1:-} ;;
        --no-legend|--legend=false|--legend=no) legend=0 ;;
        --plain) plain=1 ;;
        -a|--all) all=1 ;;
        --now) now=1 ;;
        -q|--quiet) quiet=1 ;;
        --value) value=1 ;;
        -p) shift; props="$props ${1:-}" ;;
        -s|--signal) shift; signal=${1:-TERM} ;;
        --signal=*) signal=${1#--signal=} ;;
        --property=*) props="$props ${1#--property=}" ;;
        --no-pager|--no-block|--no-ask-password|--full|-l|--system|--force|-f) ;;
        --version) echo "systemd 252 (252.33-1~deb12u1)"; exit 0 ;;
        -*) ;;
        *) if [ -z "$cmd" ]; then cmd=$1; else units="$units $(unit_name "$1")"; fi ;;
    esac
    shift
done
props=$(printf '%s' "$props" | tr ',' ' ')

do_start() {
    if ! unit_file "$1" >/dev/null; then
        echo "Failed to $2 $1: Unit $1 not found." >&2
        return 5
    fi
    [ -e "$STATE/active/$1" ] && return 0
    rm -f "$STATE/failed/$1"
    journal "$1" "Starting $1 - $(description "$1")..."
    touch "$STATE/active/$1"
    journal "$1" "Started $1 - $(description "$1")."
}
do_stop() {
    if ! known "$1"; then
        echo "Failed to stop $1: Unit $1 not loaded." >&2
        return 5
    fi
    [ -e "$STATE/active/$1" ] || return 0
    journal "$1" "Stopping $1 - $(description "$1")..."
    rm -f "$STATE/active/$1"
    journal "$1" "$1: Deactivated successfully."
    journal "$1" "Stopped $1 - $(description "$1")."
}
# do_kill UNIT SIGNAL: the main process gets SIGNAL; SIGTERM, SIGINT, SIGHUP and SIGPIPE end a
# service cleanly, the others that end a process fail it.
do_kill() {
    if [ ! -e "$STATE/active/$1" ]; then
        echo "Failed to kill unit $1: No main process to kill" >&2
        return 1
    fi
    sig=$(printf '%s' "$2" | tr '[:lower:]' '[:upper:]'); sig=${sig#SIG}
    case "$sig" in
        TERM|15|INT|2|HUP|1|PIPE|13)
            rm -f "$STATE/active/$1"
            journal "$1" "$1: Deactivated successfully." ;;
        KILL|9) fail_unit "$1" 9 KILL ;;
        ABRT|6) fail_unit "$1" 6 ABRT ;;
        SEGV|11) fail_unit "$1" 11 SEGV ;;
        QUIT|3) fail_unit "$1" 3 QUIT ;;
        *) ;;
    esac
}
fail_unit() {
    rm -f "$STATE/active/$1"
    touch "$STATE/failed/$1"
    journal "$1" "$1: Main process exited, code=killed, status=$2/$3"
    journal "$1" "$1: Failed with result 'signal'."
}
do_enable() {
    f=$(unit_file "$1") || { echo "Failed to enable unit: Unit file $1 does not exist." >&2; return 1; }
    if [ ! -e "$STATE/enabled/$1" ]; then
        touch "$STATE/enabled/$1"
        echo "Created symlink /etc/systemd/system/multi-user.target.wants/$1 → $f." >&2
    fi
}
do_disable() {
    if [ -e "$STATE/enabled/$1" ]; then
        rm -f "$STATE/enabled/$1"
        echo "Removed \"/etc/systemd/system/multi-user.target.wants/$1\"." >&2
    fi
}

list_units() {
    for u in $(all_units | sort -u); do
        case "$type_filter" in ""|*,*) ;; *) case "$u" in *".$type_filter") ;; *) continue ;; esac ;; esac
        act=$(active_state "$u"); sub=$(sub_state "$u")
        if [ -n "$state_filter" ]; then
            match=0
            for s in $(printf '%s' "$state_filter" | tr ',' ' '); do
                [ "$s" = "$act" ] || [ "$s" = "$sub" ] && match=1
            done
            [ $match -eq 1 ] || continue
        elif [ $all -eq 0 ] && [ "$act" != active ] && [ "$act" != failed ]; then
            continue
        fi
        printf '%s\t%s\t%s\t%s\t%s\n' "$u" loaded "$act" "$sub" "$(description "$u")"
    done | awk -F '\t' -v legend="$legend" -v plain="$plain" '
        function max(a, b) { return a > b ? a : b }
        { n++; u[n] = $1; l[n] = $2; a[n] = $3; s[n] = $4; d[n] = $5
          wu = max(wu, length($1)); wl = max(wl, length($2)); wa = max(wa, length($3)); ws = max(ws, length($4)) }
        END {
            wu = max(wu, 4); wl = max(wl, 4); wa = max(wa, 6); ws = max(ws, 3)
            fmt = "%-" wu "s %-" wl "s %-" wa "s %-" ws "s %s\n"
            lead = plain ? "" : "  "
            if (legend) printf lead fmt, "UNIT", "LOAD", "ACTIVE", "SUB", "DESCRIPTION"
            for (i = 1; i <= n; i++) printf lead fmt, u[i], l[i], a[i], s[i], d[i]
            if (legend) {
                print ""
                print "LOAD   = Reflects whether the unit definition was properly loaded."
                print "ACTIVE = The high-level unit activation state, i.e. generalization of SUB."
                print "SUB    = The low-level unit activation state, values depend on unit type."
                print n " loaded units listed. Pass --all to see loaded but inactive units, too."
                print "To show all installed unit files use '\''systemctl list-unit-files'\''."
            }
        }'
}

list_unit_files() {
    for u in $(all_units | sort -u); do
        unit_file "$u" >/dev/null || continue
        case "$type_filter" in "") ;; *) case "$u" in *".$type_filter") ;; *) continue ;; esac ;; esac
        printf '%s\t%s\t%s\n' "$u" "$(enabled_state "$u")" enabled
    done | awk -F '\t' -v legend="$legend" '
        { n++; u[n] = $1; s[n] = $2; p[n] = $3; if (length($1) > w) w = length($1) }
        END {
            if (w < 9) w = 9
            fmt = "%-" w "s %-15s %s\n"
            if (legend) printf fmt, "UNIT FILE", "STATE", "PRESET"
            for (i = 1; i <= n; i++) printf fmt, u[i], s[i], p[i]
            if (legend) { print ""; print n " unit files listed." }
        }'
}

show_prop() {
    case "$2" in
        ActiveState) v=$(active_state "$1") ;;
        SubState) v=$(sub_state "$1") ;;
        LoadState) if known "$1"; then v=loaded; else v=not-found; fi ;;
        UnitFileState) v=$(enabled_state "$1") ;;
        Description) v=$(description "$1") ;;
        Id|Names) v=$1 ;;
        FragmentPath) v=$(unit_file "$1" || true) ;;
        *) v="" ;;
    esac
    if [ $value -eq 1 ]; then printf '%s\n' "$v"; else printf '%s=%s\n' "$2" "$v"; fi
}

rc=0
case "$cmd" in
    restart)
        for u in $units; do do_stop "$u" >/dev/null 2>&1; do_start "$u" "$cmd" || rc=$?; done ;;
    start|reload|try-restart|reload-or-restart|condrestart)
        for u in $units; do do_start "$u" "$cmd" || rc=$?; done ;;
    kill)
        for u in $units; do do_kill "$u" "$signal" || rc=$?; done ;;
    reset-failed)
        if [ -z "$units" ]; then rm -f "$STATE/failed/"*; fi
        for u in $units; do rm -f "$STATE/failed/$u"; done ;;
    stop)
        for u in $units; do do_stop "$u" || rc=$?; done ;;
    enable)
        for u in $units; do do_enable "$u" || rc=$?; done
        if [ $now -eq 1 ] && [ $rc -eq 0 ]; then for u in $units; do do_start "$u" start || rc=$?; done; fi ;;
    disable)
        for u in $units; do do_disable "$u"; done
        if [ $now -eq 1 ]; then for u in $units; do do_stop "$u" || rc=$?; done; fi ;;
    is-active)
        for u in $units; do
            s=$(active_state "$u"); [ $quiet -eq 1 ] || echo "$s"; [ "$s" = active ] || rc=3
        done ;;
    is-enabled)
        for u in $units; do
            s=$(enabled_state "$u")
            if [ "$s" = not-found ]; then
                echo "Failed to get unit file state for $u: No such file or directory" >&2; rc=1
            else
                [ $quiet -eq 1 ] || echo "$s"; [ "$s" = enabled ] || rc=1
            fi
        done ;;
    is-failed)
        rc=1
        for u in $units; do
            s=$(active_state "$u"); [ $quiet -eq 1 ] || echo "$s"; [ "$s" = failed ] && rc=0
        done ;;
    status)
        for u in $units; do
            if ! known "$u"; then echo "Unit $u could not be found." >&2; rc=4; continue; fi
            f=$(unit_file "$u" || echo "/dev/null")
            act=$(active_state "$u")
            echo "● $u - $(description "$u")"
            echo "     Loaded: loaded ($f; $(enabled_state "$u"); preset: enabled)"
            if [ "$act" = active ]; then
                echo "     Active: active ($(sub_state "$u")) since $(date -r "$STATE/active/$u" '+%a %Y-%m-%d %H:%M:%S %Z')"
            elif [ "$act" = failed ]; then
                echo "     Active: failed (Result: signal) since $(date -r "$STATE/failed/$u" '+%a %Y-%m-%d %H:%M:%S %Z')"; rc=3
            else
                echo "     Active: inactive (dead)"; rc=3
            fi
            if [ -s "$JOURNAL" ] && awk -F '\t' -v u="$u" '$1 == u { f = 1 } END { exit !f }' "$JOURNAL"; then
                echo; journalctl -u "$u" -n 10 --no-pager -q
            fi
        done ;;
    show)
        for u in $units; do
            if [ -z "$props" ]; then
                for p in Id Description LoadState ActiveState SubState UnitFileState FragmentPath; do show_prop "$u" "$p"; done
            else
                for p in $props; do show_prop "$u" "$p"; done
            fi
        done ;;
    cat)
        for u in $units; do
            f=$(unit_file "$u") || { echo "No files found for $u." >&2; rc=1; continue; }
            echo "# $f"; cat "$f"
        done ;;
    list-units|"") list_units ;;
    list-unit-files) list_unit_files ;;
    daemon-reload|daemon-reexec|mask|unmask|preset|set-default) ;;
    *) echo "Unknown command verb $cmd." >&2; rc=1 ;;
esac
exit $rc
