#!/usr/bin/python3
"""Prints `make bench`'s figures from the JSON that `herd bench --json` wrote.

  bench_summary.py line NAME FILE          one run, one or two lines
  bench_summary.py summary DIR IAMATS      the table, the ratios and the targets
Targets are reported, never asserted (a benchmark is a program that prints figures).
"""
import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def us(h, q):
    return "%.1f" % h[q]


def line(name, path):
    d = load(path)
    if d is None:
        print("bench: %s: no result" % name)
        return
    parts = []
    if d["connections"] > 0:
        mode = "closed loop" if d["mode"] == "closed" else "open loop at %d/s" % d["rate"]
        parts.append("%.0f replies/s (%s), latency p50 %s p99 %s max %s us, '?' %d, unanswered %d"
                     % (d["replies_per_s"], mode, us(d["latency_us"], "p50"),
                        us(d["latency_us"], "p99"), us(d["latency_us"], "max"),
                        d["error_replies"], d["unanswered"]))
    if d["visibility_us"]["n"] or d["visibility_lost"]:
        v = d["visibility_us"]
        parts.append("visibility p50 %s p99 %s max %s us (n=%d, lost %d, poll rtt p50 %s us)"
                     % (us(v, "p50"), us(v, "p99"), us(v, "max"), v["n"], d["visibility_lost"],
                        us(d["poll_rtt_us"], "p50")))
    h = d["hold"]
    if h["requested"]:
        parts.append("hold %d: %d connected, %d answered, %d open at end"
                     % (h["requested"], h["connected"], h["answered"], h["open_at_end"]))
    for v in d["verify"]:
        parts.append("verify %s: %d/%d current (%d stale, %d missing, %d not answered in time)"
                     % (v["server"], v["current"], v["checked"], v["stale"], v["missing"],
                        v["failed"]))
    print("bench: %-22s %s" % (name, ("\nbench: %-22s " % "").join(parts)))


def ratio(a, b):
    return "%.3f" % (a / b) if a and b else "n/a"


def no_loss(d):
    if d is None or not d["verify"]:
        return "not checked"
    cur = sum(v["current"] for v in d["verify"])
    chk = sum(v["checked"] for v in d["verify"])
    return "%d/%d records current over %d servers%s" % (
        cur, chk, len(d["verify"]), "" if cur == chk else "  <-- not all current by the deadline (loss, or a flood backlog)")


def throughput_table(runs, suffix, title):
    """Prints one throughput table; returns replies/s per system."""
    peak = {k: (runs[k + suffix] or {}).get("replies_per_s", 0)
            for k in ("floor", "herd", "asyncio", "asyncio_persistent")}
    if not peak["floor"]:
        return peak
    d0 = runs["floor" + suffix]
    print("-- IAMAT throughput at one server, %s (%d connections x %d in flight) --" % (
        title, d0["connections"], d0["pipeline"]))
    print("%-28s %10s %9s %9s %8s %12s" % ("", "replies/s", "p50 us", "p99 us",
                                           "x floor", "CPU us/reply"))
    cpu = {}
    for k, label in (("floor", "floor (libuv, fixed reply)"), ("herd", "herd (1 process, 5 servers)"),
                     ("asyncio", "asyncio herd"), ("asyncio_persistent", "asyncio herd, persistent")):
        d = runs[k + suffix]
        if d is None:
            print("%-28s %10s" % (label, "not run"))
            continue
        cpu[k] = d.get("server_cpu_us_per_reply", -1)
        print("%-28s %10.0f %9s %9s %8s %12s" % (
            label, d["replies_per_s"], us(d["latency_us"], "p50"), us(d["latency_us"], "p99"),
            ratio(d["replies_per_s"], peak["floor"]), "%.2f" % cpu[k] if cpu[k] > 0 else "n/a"))
    print("ratios: herd/floor %s (target >= 0.5), asyncio/floor %s, asyncio-persistent/floor %s, "
          "herd/asyncio %s, herd/asyncio-persistent %s" % (
              ratio(peak["herd"], peak["floor"]), ratio(peak["asyncio"], peak["floor"]),
              ratio(peak["asyncio_persistent"], peak["floor"]), ratio(peak["herd"], peak["asyncio"]),
              ratio(peak["herd"], peak["asyncio_persistent"])))
    inv = {k: 1.0 / v for k, v in cpu.items() if v > 0}
    print("per CPU second (as if each had a core of its own): herd/floor %s, asyncio/floor %s, "
          "asyncio-persistent/floor %s, herd/asyncio-persistent %s" % (
              ratio(inv.get("herd"), inv.get("floor")), ratio(inv.get("asyncio"), inv.get("floor")),
              ratio(inv.get("asyncio_persistent"), inv.get("floor")),
              ratio(inv.get("herd"), inv.get("asyncio_persistent"))))
    return peak


def summary(work, iamats):
    runs = {n: load(os.path.join(work, n + ".json")) for n in (
        "floor_peak", "floor_half", "floor_shallow", "herd_shallow", "asyncio_shallow",
        "asyncio_persistent_shallow", "herd_peak", "herd_half", "herd_visibility", "herd_hold",
        "herd_memory", "herd_rss", "asyncio_peak", "asyncio_visibility",
        "asyncio_persistent_peak", "asyncio_persistent_visibility", "record_memory")}
    print("\n== make bench summary (servers and load generator share %d cores) ==" % os.cpu_count())
    peak = throughput_table(runs, "_peak", "deep pipeline")
    throughput_table(runs, "_shallow", "one request in flight per connection")
    for k in ("herd", "floor"):
        d = runs[k + "_half"]
        if d:
            print("%s at half the herd's peak (%d/s, open loop): p50 %s p99 %s us, achieved %.0f/s%s" % (
                k, d["rate"], us(d["latency_us"], "p50"), us(d["latency_us"], "p99"), d["replies_per_s"],
                " (target p99 < 1000 us)" if k == "herd" else ""))
    for k in ("herd", "asyncio", "asyncio_persistent"):
        d = runs[k + "_visibility"]
        if d:
            v = d["visibility_us"]
            print("flood visibility, farthest server, light load, %s: p50 %s p99 %s us (n=%d, lost %d)%s" % (
                k, us(v, "p50"), us(v, "p99"), v["n"], d["visibility_lost"],
                " (target p50 < 1000 us)" if k == "herd" else ""))
    for k in ("herd", "asyncio", "asyncio_persistent"):
        print("no loss, %s: %s" % (k, no_loss(runs[k + "_peak"])))
    h = runs["herd_hold"]
    if h:
        print("connections held by the herd: %d requested, %d connected, %d answered, %d open at end" % (
            h["hold"]["requested"], h["hold"]["connected"], h["hold"]["answered"], h["hold"]["open_at_end"]))
    rm = runs["record_memory"]
    if rm:
        print("memory, one RecordTable of %d records: %.1f heap bytes/record, %.1f RSS bytes/record (target <= 200)"
              % (rm["records"], rm["heap_bytes_per_record"], rm["rss_bytes_per_record"]))
    m, r = runs["herd_memory"], runs["herd_rss"]
    if m and r:
        stored = min(m["replies"], int(iamats))
        per = (r["rss1_kb"] - r["rss0_kb"]) * 1024.0 / (stored * 5) if stored else 0
        print("memory, live herd: RSS %d -> %d kB after %d new clients x 5 servers: %.1f bytes/record/server"
              " (%.0f IAMAT/s; %s)" % (r["rss0_kb"], r["rss1_kb"], stored, per, m["replies_per_s"],
                                        no_loss(m)))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "line":
        line(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "summary":
        summary(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
