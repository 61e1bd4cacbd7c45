#!/bin/sh
# Enable nginx and make sure it serves the page.
set -eu
systemctl enable --now nginx
echo "nginx is $(systemctl is-active nginx)"
