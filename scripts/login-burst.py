#!/usr/bin/env python3
"""Measures the server's memory under a burst of wrong logins (issue 14: within 100 MB of idle).

Usage: set DATABASE_URL, REDIS_URL, INFRAHAUS_LISTEN=127.0.0.1:PORT, INFRAHAUS_SECRET_KEY_FILE
and INFRAHAUS_SITE_ROOT for a migrated database with a user `admin` whose password is in
ADMIN_PW, then:  scripts/login-burst.py target/release/server PORT [BURST]
Prints RSS before and after one good login, after the burst, the answers' statuses, and the
peak growth over idle. Optional PRETHROTTLE=1 sends 5 wrong logins first (a burst that is all
throttled).
"""
import json, os, subprocess, sys, threading, time, urllib.error, urllib.request
from collections import Counter

server_bin, port = sys.argv[1], sys.argv[2]
burst = int(sys.argv[3]) if len(sys.argv) > 3 else 60


def memory(pid):
    found = {}
    for line in open(f"/proc/{pid}/status"):
        key, value = line.split(":", 1)
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) // 1024
    return found


def login(password):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/login",
        data=json.dumps({"username": "admin", "password": password}).encode(),
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


server = subprocess.Popen([server_bin], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            break
        except Exception:
            time.sleep(0.1)
    fresh = memory(server.pid)
    print("fresh MB", fresh)
    print("good login", login(os.environ["ADMIN_PW"]))
    if os.environ.get("PRETHROTTLE"):
        print("wrong logins", [login(f"wrong {i}") for i in range(5)])
    time.sleep(1)
    idle = memory(server.pid)
    print("idle MB", idle)
    answers = []
    threads = [threading.Thread(target=lambda i=i: answers.append(login(f"guess {i}"))) for i in range(burst)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.5)
    after = memory(server.pid)
    print("after burst MB", after)
    print("statuses", dict(Counter(answers)))
    print("peak over fresh MB", after["VmHWM"] - fresh["VmRSS"], "| peak over idle MB", after["VmHWM"] - idle["VmRSS"])
finally:
    server.terminate()
    server.wait()
