#!/bin/sh
# pvesim stand-in for ss. Lists, in iproute2's format, the sockets declared by the container's
# active units: each line of /etc/pvesim/ports/UNIT.ports is `[ADDR:]PORT [PROCESS] [tcp|udp]`
# (ADDR defaults to 0.0.0.0, PROCESS to the unit name without `.service`, protocol to tcp).
# A unit is active when the systemctl stand-in started it.
set -u
tcp=0; udp=0; listen=0; procs=0; header=1; all=0
for a in "$@"; do
    case "$a" in
        --tcp) tcp=1 ;; --udp) udp=1 ;; --listening) listen=1 ;; --processes) procs=1 ;;
        --no-header) header=0 ;; --all) all=1 ;; --numeric|--ipv4|--ipv6) ;;
        --*) ;;
        -*)
            flags=${a#-}
            while [ -n "$flags" ]; do
                c=$(printf '%s' "$flags" | cut -c1); flags=$(printf '%s' "$flags" | cut -c2-)
                case "$c" in t) tcp=1 ;; u) udp=1 ;; l) listen=1 ;; p) procs=1 ;; H) header=0 ;; a) all=1 ;; esac
            done ;;
        *) ;;
    esac
done
[ $tcp -eq 0 ] && [ $udp -eq 0 ] && { tcp=1; udp=1; }
: "$listen" "$all"
for f in /etc/pvesim/ports/*.ports; do
    [ -f "$f" ] || continue
    unit=$(basename "$f" .ports)
    [ -e "/var/lib/pvesim/systemd/active/$unit" ] || continue
    sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$f" | while read -r addr proc proto; do
        printf '%s\t%s\t%s\t%s\n' "$unit" "$addr" "${proc:-}" "${proto:-tcp}"
    done
done | awk -F '\t' -v tcp="$tcp" -v udp="$udp" -v procs="$procs" -v header="$header" '
    BEGIN { pid = 400 }
    {
        unit = $1; addr = $2; proc = $3; proto = $4
        if ((proto == "tcp" && !tcp) || (proto == "udp" && !udp)) next
        if (addr !~ /:[0-9]+$/) addr = "0.0.0.0:" addr
        if (proc == "") { proc = unit; sub(/\.service$/, "", proc) }
        if (!(unit in pids)) pids[unit] = pid++
        n++
        state[n] = proto == "udp" ? "UNCONN" : "LISTEN"
        sendq[n] = proto == "udp" ? 0 : (proc == "sshd" ? 128 : 511)
        local[n] = addr
        split(addr, parts, ":"); host = substr(addr, 1, length(addr) - length(parts[length(parts)]) - 1)
        peer[n] = (host ~ /^\[/ ? "[::]" : "0.0.0.0") ":*"
        users[n] = "users:((\"" proc "\",pid=" pids[unit] ",fd=" (5 + n) "))"
    }
    END {
        fmt = "%-6s %-6s %-6s %18s %-17s%s\n"
        if (header) printf fmt, "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "Process"
        for (i = 1; i <= n; i++)
            printf fmt, state[i], 0, sendq[i], local[i], peer[i], procs ? users[i] : ""
    }'
