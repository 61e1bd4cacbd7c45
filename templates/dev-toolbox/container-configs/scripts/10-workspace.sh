#!/bin/sh
# Create the workspace folder.
set -eu
mkdir -p /srv/workspace
echo "workspace ready in /srv/workspace"
