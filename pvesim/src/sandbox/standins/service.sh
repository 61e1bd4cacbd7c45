#!/bin/sh
# pvesim stand-in for service(8): `service NAME ACTION` is `systemctl ACTION NAME`.
[ $# -ge 2 ] || { echo "Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]" >&2; exit 1; }
exec systemctl "$2" "$1"
