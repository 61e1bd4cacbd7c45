#!/bin/sh
# pvesim stand-in for hostname: -I/-i print the container's address (written by the simulator
# to /etc/pvesim/ip when it starts); everything else is the real hostname(1).
case "${1:-}" in
    -I|--all-ip-addresses) printf '%s \n' "$(cat /etc/pvesim/ip 2>/dev/null)" ;;
    -i|--ip-address) cat /etc/pvesim/ip 2>/dev/null ;;
    *) exec /usr/bin/hostname "$@" ;;
esac
