#!/usr/bin/env python3
"""Helpers for benches/smtp/run.sh (standard library only).

  bench.py free-port
  bench.py html-mail OUT               the 100 KB HTML mail of benches/corpus (b)
  bench.py wait-sink SINK_OUT N SECS   waits until smtp-sink -c counted N messages;
                                       prints the time (epoch seconds) it saw it
  bench.py wait-lines FILE REGEX N SECS
  bench.py sample OUT PID [PID...]     every 0.2 s: summed VmRSS of the PIDs and of
                                       their children; until SIGTERM. Writes the peak
                                       and the foreign build/test processes it saw.
  bench.py cpu                         prints the /proc/stat cpu line as
                                       "busy iowait total" jiffies
  bench.py latency-mukaika LOG         p50/p99 of received -> delivered, from JSON lines
  bench.py latency-postfix MAILLOG     p50/p99 of delay= on status=sent lines
  bench.py summary RESULTS_TSV         the Markdown table of run.sh's results
  bench.py hwm PID [PID...]            sum of VmHWM (kB) of the PIDs and their children,
                                       their number, and their summed Pss (kB)
"""

import base64
import csv
import datetime
import json
import math
import os
import re
import signal
import socket
import statistics
import sys
import time

# Processes that mean someone else is building or testing on this machine.
FOREIGN = re.compile(r"^(cargo|rustc|cc1|cc1plus|ld|clippy-driver|rustdoc|rustfmt|cargo-fuzz)$")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def html_page(size):
    """benches/corpus/mod.rs html_page(), byte for byte."""
    html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>td{font-size:14px}</style>'
        '<script>track()</script></head><body><div style="display:none">プレヘッダー</div>'
        '<table width="600" style="margin:0 auto"><tr><td>'
    )
    parts = [html]
    length = len(html.encode())
    n = 0
    while length < size:
        n += 1
        chunk = (
            f'<table style="border:0;padding:8px"><tr><td style="color:#333"><h2>特集{n}：秋のキャンペーン</h2>'
            f"<p>いつもご利用ありがとうございます。<b>期間限定</b>のご案内です。"
            f'<a href="https://shop.example.com/campaign/{n}?utm_source=mail&amp;utm_medium=html">詳しくはこちら</a></p>'
            f"<ul><li>送料無料</li><li>ポイント10倍</li></ul>"
            f'<img src="https://img.example.com/banner{n}.png" width="560" height="200" alt="バナー{n}"></td>'
            f"<td><table><tr><th>商品</th><th>価格</th></tr><tr><td>りんご</td><td>&yen;300</td></tr></table></td></tr></table>"
        )
        parts.append(chunk)
        length += len(chunk.encode())
    parts.append(
        '</td></tr></table><img src="https://t.example.com/open.gif" width="1" height="1"></body></html>'
    )
    return "".join(parts)


def html_mail(out):
    """Like corpus::html_mail() (mail-builder: UTF-8 HTML, base64, 76-column
    lines). LF line ends: smtp-source -F turns each line end into CRLF."""

    def word(text):
        return "=?utf-8?B?" + base64.b64encode(text.encode()).decode() + "?="

    body = base64.encodebytes(html_page(72_000).encode()).decode()  # 76 columns, LF
    head = (
        f'From: "{word("ショップ")}" <news@shop.example.com>\n'
        "To: <tanaka@lgwan.example.jp>\n"
        f"Subject: {word('【期間限定】秋のキャンペーンのお知らせ')}\n"
        "Message-ID: <bench-b@shop.example.com>\n"
        "Date: Mon, 2 Nov 2026 10:00:00 +0900\n"
        "MIME-Version: 1.0\n"
        'Content-Type: text/html; charset="utf-8"\n'
        "Content-Transfer-Encoding: base64\n\n"
    )
    with open(out, "w", newline="\n") as f:
        f.write(head + body)


def wait_sink(path, n, secs):
    """smtp-sink -c writes 'sess=A quit=B mesg=C' + CR at every change."""
    n, deadline = int(n), time.time() + float(secs)
    pos, count, tail = 0, 0, b""
    while time.time() < deadline:
        try:
            with open(path, "rb") as f:
                f.seek(pos)
                data = f.read()
        except FileNotFoundError:
            data = b""
        if data:
            pos += len(data)
            tail = (tail + data)[-200:]
            found = re.findall(rb"mesg=(\d+)", tail)
            if found:
                count = int(found[-1])
        if count >= n:
            print(f"{time.time():.6f}")
            return 0
        time.sleep(0.005)
    print(f"timeout: the sink counted {count} of {n} messages", file=sys.stderr)
    return 1


def wait_lines(path, regex, n, secs):
    rx, n, deadline = re.compile(regex), int(n), time.time() + float(secs)
    count = 0
    while time.time() < deadline:
        try:
            with open(path, errors="replace") as f:
                count = sum(1 for line in f if rx.search(line))
        except FileNotFoundError:
            count = 0
        if count >= n:
            return 0
        time.sleep(0.1)
    print(f"timeout: {path} has {count} of {n} lines matching {regex}", file=sys.stderr)
    return 1


def children_of(pids):
    """The PIDs and all their live descendants."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parent[int(d)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, todo = set(), [int(p) for p in pids]
    while todo:
        p = todo.pop()
        if p in tree or p not in parent:
            continue
        tree.add(p)
        todo.extend(c for c, pp in parent.items() if pp == p)
    return tree


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def hwm(pids):
    """Summed VmHWM, number of processes, summed Pss (shared pages split)."""
    procs = children_of(pids)
    print(sum(status_kb(p, "VmHWM") for p in procs), len(procs), sum(pss_kb(p) for p in procs))


def sample(out, pids):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    peak, peak_n, foreign = 0, 0, set()
    while not stop:
        procs = children_of(pids)
        rss = sum(status_kb(p, "VmRSS") for p in procs)
        if rss > peak:
            peak, peak_n = rss, len(procs)
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/comm") as f:
                        comm = f.read().strip()
                except OSError:
                    continue
                if FOREIGN.match(comm):
                    foreign.add(comm)
        time.sleep(0.2)
    with open(out, "w") as f:
        f.write(f"peak_rss_kb={peak}\npeak_procs={peak_n}\nforeign={','.join(sorted(foreign))}\n")


def cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
    print(user + nice + system + irq + softirq + steal, iowait, sum(v[:8]))


def percentiles(values):
    values = sorted(values)
    if not values:
        return "n=0"

    def p(q):  # nearest rank
        return values[max(0, math.ceil(q * len(values)) - 1)]

    return f"n={len(values)} p50_ms={p(0.50) * 1000:.1f} p99_ms={p(0.99) * 1000:.1f} max_ms={values[-1] * 1000:.1f}"


def ts(s):
    # tracing-subscriber: 2026-11-22T00:42:58.123456Z (nanoseconds possible)
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", s)
    base = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc
    )
    return base.timestamp() + (float("0." + m.group(2)) if m.group(2) else 0.0)


def latency_mukaika(path):
    received, delivered = {}, {}
    with open(path, errors="replace") as f:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            stage, qid = ev.get("stage"), ev.get("queue_id")
            if stage == "received":
                received[qid] = ts(ev["timestamp"])
            elif stage == "delivered":
                delivered.setdefault(qid, ts(ev["timestamp"]))
    print(percentiles([delivered[q] - received[q] for q in delivered if q in received]))


def latency_postfix(path):
    rx = re.compile(r"postfix/smtp\[\d+\]: \w+: to=.*, delay=([\d.]+),.* status=sent")
    with open(path, errors="replace") as f:
        print(percentiles([float(m.group(1)) for m in map(rx.search, f) if m]))


def summary(path):
    """The Markdown table: per load and system, the median msgs/s; latency
    and memory from the run closest to the median."""
    rows = [r for r in csv.DictReader(open(path), delimiter="\t") if "profiled" not in r["note"]]
    loads = {"text": "10 KB text", "html": "100 KB HTML"}
    med = {}
    print("\n| load | system | msgs/s, median (runs) | latency p50 / p99 | peak memory | CPU busy / iowait |")
    print("|---|---|---:|---:|---:|---:|")
    for key in sorted({(r["load"], r["system"]) for r in rows}):
        runs = [r for r in rows if (r["load"], r["system"]) == key]
        m = statistics.median(float(r["msgs_per_s"]) for r in runs)
        med[key] = m
        r = min(runs, key=lambda r: abs(float(r["msgs_per_s"]) - m))
        lat = dict(kv.split("=") for kv in r["latency"].split())
        if key[1] == "mukaika":
            mem = f"VmHWM {int(r['hwm_kb']) / 1024:.0f} MiB"
        else:
            mem = (f"VmHWM sum {int(r['hwm_kb']) / 1024:.0f} MiB over {r['procs']} processes, "
                   f"Pss sum {int(r['pss_kb']) / 1024:.0f} MiB")
        print(f"| {loads.get(key[0], key[0])} | {key[1]} | **{m:.0f}** ({', '.join(x['msgs_per_s'] for x in runs)}) | "
              f"{lat.get('p50_ms', '?')} / {lat.get('p99_ms', '?')} ms | {mem} | "
              f"{r['cpu_busy_pct']} % / {r['iowait_pct']} % |")
    for load in sorted({l for l, _ in med}):
        m, p = med.get((load, "mukaika")), med.get((load, "postfix"))
        if m and p:
            print(f"\n{loads.get(load, load)}: mukaika / Postfix = {m / p:.2f}x (target >= 0.5x: {'met' if m / p >= 0.5 else 'NOT met'})")


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "free-port":
        return free_port()
    if cmd == "html-mail":
        return html_mail(*args)
    if cmd == "wait-sink":
        return wait_sink(*args)
    if cmd == "wait-lines":
        return wait_lines(*args)
    if cmd == "sample":
        return sample(args[0], args[1:])
    if cmd == "hwm":
        return hwm(args)
    if cmd == "cpu":
        return cpu()
    if cmd == "latency-mukaika":
        return latency_mukaika(*args)
    if cmd == "latency-postfix":
        return latency_postfix(*args)
    if cmd == "summary":
        return summary(*args)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv) or 0)
