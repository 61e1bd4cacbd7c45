#!/bin/sh
# Create the admin password for /status and hand it to infrahaus.
set -eu
umask 077
mkdir -p /etc/infrahaus/credentials
if [ ! -s /etc/infrahaus/credentials/web-admin-password ]; then
  head -c 18 /dev/urandom | base64 | tr -d '/+=' > /etc/infrahaus/credentials/web-admin-password
fi
echo "admin credential written to /etc/infrahaus/credentials/web-admin-password"
