#!/bin/sh
# pvesim stand-in for journalctl: the sandbox keeps no journal.
echo "-- No entries --"
