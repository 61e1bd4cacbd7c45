#!/bin/sh
# Set the time zone to UTC and record when the container was set up.
set -eu
mkdir -p /etc/infrahaus
echo "UTC" > /etc/timezone
date -u +%Y-%m-%dT%H:%M:%SZ > /etc/infrahaus/provisioned-at
echo "time zone set to UTC"
