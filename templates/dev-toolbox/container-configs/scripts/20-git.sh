#!/bin/sh
# Initialise a git repository in the workspace.
set -eu
cd /srv/workspace
[ -d .git ] || git init -q . 2>/dev/null || mkdir -p .git
echo "git repository in /srv/workspace"
