#!/usr/bin/env python3
"""Draws the panels of infrahaus.json from real scrapes, where no Grafana is at hand.

    preview.py scrape OUT.jsonl SERVER_URL WORKER_URL [SECONDS] [EVERY]
        scrapes both /metrics endpoints every EVERY seconds (default 5) for SECONDS (default 300)
    preview.py render OUT.jsonl PAGE.html
        an HTML page with one SVG chart per dashboard panel, computed from the scrapes the way
        the panel's PromQL would (rates from counter deltas, quantiles from histogram buckets);
        screenshot it with headless Chromium.

This is not Grafana: it is a stand-in that draws the same queries from the same data. Only the
standard library is used.
"""

import html
import json
import math
import re
import sys
import time
import urllib.request

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels)): value} of one scrape."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            continue
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4).replace("+Inf", "inf"))
    return out


def scrape(path, server, worker, seconds=300, every=5):
    end = time.time() + float(seconds)
    with open(path, "a") as f:
        while time.time() < end:
            row = {"t": time.time()}
            for name, url in (("server", server), ("worker", worker)):
                with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=5) as r:
                    row[name] = r.read().decode()
            f.write(json.dumps(row) + "\n")
            f.flush()
            time.sleep(float(every))


def series(samples, name, group):
    """{group label values: value} summed over the other labels."""
    out = {}
    for (n, labels), v in samples.items():
        if n != name:
            continue
        d = dict(labels)
        key = tuple(d.get(g, "") for g in group)
        out[key] = out.get(key, 0.0) + v
    return out


def rate(rows, i, name, group, window):
    """Per-second increase over the last `window` scrapes, as PromQL's rate (no reset handling
    needed: the processes run through the whole capture)."""
    j = max(0, i - window)
    now, then = series(rows[i][1], name, group), series(rows[j][1], name, group)
    dt = rows[i][0] - rows[j][0] or 1.0
    return {k: max(0.0, v - then.get(k, 0.0)) / dt for k, v in now.items()}


def quantile(q, buckets):
    """histogram_quantile: linear interpolation inside the bucket holding rank q."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return lower
            return lower + (le - lower) * ((rank - below) / (count - below) if count > below else 0)
        lower, below = le, count
    return lower


def quantiles(rows, i, name, group, q, window):
    increase = rate(rows, i, name + "_bucket", group + ("le",), window)
    per = {}
    for key, v in increase.items():
        per.setdefault(key[:-1], []).append((float(key[-1]), v))
    return {k: quantile(q, b) for k, b in per.items()}


PANELS = [
    ("Queue: open jobs and pending deliveries", "short", "worker",
     lambda rows, i: {("open jobs",): sum(series(rows[i][1], "infrahaus_queue_depth", ()).values()),
                      ("pending",): sum(series(rows[i][1], "infrahaus_queue_pending", ()).values())}),
    ("Jobs finished by outcome (per minute)", "short", "worker",
     lambda rows, i: {**{k: v * 60 for k, v in rate(rows, i, "infrahaus_jobs_finished_total", ("outcome",), 6).items()},
                      ("started",): 60 * sum(rate(rows, i, "infrahaus_jobs_started_total", (), 6).values())}),
    ("Phase duration p95", "s", "worker",
     lambda rows, i: quantiles(rows, i, "infrahaus_phase_duration_seconds", ("phase",), 0.95, 12)),
    ("Proxmox API latency p95 by endpoint", "s", "worker",
     lambda rows, i: quantiles(rows, i, "infrahaus_pve_request_duration_seconds", ("method", "endpoint"), 0.95, 12)),
    ("Open progress streams", "short", "server",
     lambda rows, i: {("open streams",): sum(series(rows[i][1], "infrahaus_progress_streams_open", ()).values())}),
    ("Progress events sent (per second)", "short", "server",
     lambda rows, i: {("events/s",): sum(rate(rows, i, "infrahaus_progress_events_sent_total", (), 6).values())}),
    ("Server function calls by name and status (per minute)", "short", "server",
     lambda rows, i: {k: v * 60 for k, v in rate(rows, i, "infrahaus_server_fn_requests_total", ("name", "status"), 6).items()}),
    ("Request latency p95 by route", "s", "server",
     lambda rows, i: quantiles(rows, i, "infrahaus_http_request_duration_seconds", ("route",), 0.95, 12)),
]

STATS = [
    ("Containers ready / failed", "worker", "infrahaus_containers_finished_total", ("result",)),
    ("Takeovers", "worker", "infrahaus_jobs_taken_over_total", ()),
    ("SSH connect retries", "worker", "infrahaus_ssh_connect_retries_total", ()),
    ("Logins refused: wrong password", "server", "infrahaus_login_failures_total", ()),
    ("Logins refused: throttled", "server", "infrahaus_login_throttled_total", ()),
]

COLORS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#b877d9", "#f2495c", "#8ab8ff", "#37872d",
          "#fade2a", "#c4162a"]


def chart(title, unit, times, lines, w=540, h=220):
    pad_l, pad_b, pad_t = 56, 22, 8
    ys = [v for pts in lines.values() for v in pts if v is not None]
    top = max(ys) if ys else 1.0
    top = top * 1.15 if top > 0 else 1.0
    t0, t1 = times[0], times[-1] if times[-1] > times[0] else times[0] + 1

    def x(t):
        return pad_l + (w - pad_l - 8) * (t - t0) / (t1 - t0)

    def y(v):
        return pad_t + (h - pad_t - pad_b) * (1 - v / top)

    parts = [f'<svg width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">']
    for k in range(5):
        v = top * k / 4
        label = f"{v * 1000:.0f} ms" if unit == "s" and top < 1 else (f"{v:.2f} s" if unit == "s" else f"{v:.3g}")
        parts.append(f'<line x1="{pad_l}" x2="{w - 8}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#2c3235"/>'
                     f'<text x="{pad_l - 6}" y="{y(v) + 4:.1f}" fill="#9fa7b3" font-size="10" text-anchor="end">{label}</text>')
    for k in range(4):
        t = t0 + (t1 - t0) * k / 3
        parts.append(f'<text x="{x(t):.1f}" y="{h - 6}" fill="#9fa7b3" font-size="10" text-anchor="middle">'
                     f'{time.strftime("%H:%M:%S", time.gmtime(t))}</text>')
    legend = []
    for n, (name, pts) in enumerate(sorted(lines.items())):
        color = COLORS[n % len(COLORS)]
        path, pen = [], "M"
        for t, v in zip(times, pts):
            if v is None:
                pen = "M"
                continue
            path.append(f"{pen}{x(t):.1f},{y(v):.1f}")
            pen = "L"
        parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="1.6"/>')
        legend.append(f'<span><i style="background:{color}"></i>{html.escape(name)}</span>')
    parts.append("</svg>")
    return (f'<div class="panel"><h3>{html.escape(title)}</h3>{"".join(parts)}'
            f'<div class="legend">{"".join(legend[:8])}</div></div>')


def render(path, out):
    raw = [json.loads(line) for line in open(path) if line.strip()]
    runs = {name: [(r["t"], parse(r[name])) for r in raw] for name in ("server", "worker")}
    times = [r["t"] for r in raw]
    panels = []
    for title, unit, proc, compute in PANELS:
        rows = runs[proc]
        values = [compute(rows, i) for i in range(len(rows))]
        keys = sorted({k for v in values for k in v})
        lines = {" ".join(k): [v.get(k) for v in values] for k in keys}
        panels.append(chart(title, unit, times, lines))
    stats = []
    for title, proc, name, group in STATS:
        first, last = runs[proc][0][1], runs[proc][-1][1]
        now, then = series(last, name, group), series(first, name, group)
        text = " / ".join(f"{int(v - then.get(k, 0))}" + (f" {k[0]}" if k else "") for k, v in sorted(now.items())) or "0"
        stats.append(f'<div class="stat"><h3>{html.escape(title)}</h3><b>{html.escape(text)}</b></div>')
    span = f'{time.strftime("%Y-%m-%d %H:%M", time.gmtime(times[0]))} to {time.strftime("%H:%M UTC", time.gmtime(times[-1]))}'
    page = f"""<!doctype html><meta charset="utf-8"><title>infrahaus dashboard preview</title>
<style>
body{{background:#111217;color:#ccccdc;font:13px sans-serif;margin:12px;width:1160px}}
h1{{font-size:17px;margin:0 0 2px}} .note{{color:#9fa7b3;margin:0 0 10px}}
.row{{display:flex;flex-wrap:wrap;gap:10px}} h2{{font-size:14px;margin:12px 0 6px}}
.panel,.stat{{background:#181b1f;border:1px solid #2c3235;border-radius:3px;padding:6px}}
.panel{{width:550px}} .stat{{width:208px}} .stat b{{font-size:26px;color:#73bf69}}
h3{{font-size:12px;margin:0 0 4px;font-weight:500}}
.legend span{{margin-right:10px;font-size:11px;white-space:nowrap}}
.legend i{{display:inline-block;width:10px;height:3px;margin:0 4px 3px 0}}
</style>
<h1>infrahaus (deploy/grafana/infrahaus.json)</h1>
<p class="note">Not a Grafana screenshot: the dashboard's panels drawn by deploy/grafana/preview.py from
{len(raw)} scrapes of the demo's server and worker, {span}.</p>
<h2>Counts over the capture</h2><div class="row">{''.join(stats)}</div>
<h2>Worker and server</h2><div class="row">{''.join(panels)}</div>
"""
    open(out, "w").write(page)


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "scrape":
        scrape(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "render":
        render(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
