"""Turns scripts/bench's results.jsonl into the markdown table (stdout). Per-round values are
"added over direct in the same round"; the table shows their median over rounds and, with more
than one round, the range."""

import argparse
import datetime
import json
import statistics

TARGETS = ("direct", "nginx", "gateway")
GOALS = {
    "p50": "≤ 0.15", "p99": "≤ 0.3", "ttfc": "—", "ratio": "≥ 0.40x", "cpu": "≤ 0.08",
    "open": "≥ 4,000", "rss": "≤ 150", "streams_mem": "≤ 32", "streams_ok": "10,000 complete",
}


def fmt(v, digits=3):
    return "—" if v is None else f"{v:.{digits}f}"


def summary(values, digits=3, suffix=""):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}{suffix}"
    return f"{med:.{digits}f}{suffix} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--commit", default="?")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--streams", type=int)
    ap.add_argument("--wall", type=int)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    rows = [json.loads(line) for line in open(a.results) if line.strip()]

    def by(phase):
        out = {}
        for r in rows:
            if r["phase"] == phase:
                out.setdefault(r.get("round", 0), {})[r["target"]] = r
        return out

    c1, ttfc, c64 = by("c1"), by("ttfc"), by("c64")
    cell = {t: {} for t in TARGETS}
    errors = {t: 0 for t in TARGETS}
    for t in TARGETS:
        p50 = [rd[t]["r"]["p50_us"] / 1000 for rd in c1.values()]
        p99 = [rd[t]["r"]["p99_us"] / 1000 for rd in c1.values()]
        cell[t]["c1"] = f"{summary(p50)} / {summary(p99)}"
        errors[t] += sum(rd[t]["r"]["errors"] for rd in c1.values()) + sum(rd[t]["r"]["errors"] for rd in c64.values())
        errors[t] += sum(rd[t]["r"]["errors"] for rd in ttfc.values())
        cell[t]["ttfc_abs"] = summary([rd[t]["r"]["p99"] for rd in ttfc.values()])
        rps = [rd[t]["r"]["requests"] / (rd[t]["r"]["duration_us"] / 1e6) for rd in c64.values()]
        cell[t]["rps"] = summary(rps, 0)
        reqs = sum(rd[t]["r"]["requests"] for rd in c64.values())
        cpu = sum(rd[t]["cpu_ms"] for rd in c64.values())
        cell[t]["cpu"] = fmt(cpu / reqs if reqs else None)
        if t == "direct":
            cell[t].update(p50="—", p99="—", ttfc="—", ratio="1.00x")
            continue
        cell[t]["p50"] = summary([(rd[t]["r"]["p50_us"] - rd["direct"]["r"]["p50_us"]) / 1000 for rd in c1.values()])
        cell[t]["p99"] = summary([(rd[t]["r"]["p99_us"] - rd["direct"]["r"]["p99_us"]) / 1000 for rd in c1.values()])
        cell[t]["ttfc"] = summary([rd[t]["r"]["p99"] - rd["direct"]["r"]["p99"] for rd in ttfc.values()])
        cell[t]["ratio"] = summary(
            [(rd[t]["r"]["requests"] / rd[t]["r"]["duration_us"]) / (rd["direct"]["r"]["requests"] / rd["direct"]["r"]["duration_us"])
             for rd in c64.values()], 2, "x")

    rss_detail = {}
    for r in rows:
        if r["phase"] == "rss":
            t = r["target"]
            total = sum(p["kib"] for p in r["procs"]) / 1024
            cell[t]["rss"] = f"{total:.1f}"
            rss_detail[t] = ", ".join(f"{p['name']} {p['kib'] / 1024:.1f}" for p in r["procs"])

    # open loop: per rate, added p99 over direct at the same rate
    opens = {}
    for r in rows:
        if r["phase"] == "open":
            opens.setdefault(r["r"]["rate"], {})[r["target"]] = r["r"]
    open_lines = []
    best = {t: None for t in TARGETS}
    stopped = {t: False for t in TARGETS}
    for rate in sorted(opens):
        d = opens[rate].get("direct")
        parts = []
        for t in TARGETS:
            x = opens[rate].get(t)
            if not x:
                continue
            parts.append(f"{t} p99 {fmt(x['p99'], 2)} ms ({x['errors']} errors)")
            if t == "direct":
                ok = x["errors"] == 0 and x["p99"] is not None
            else:
                ok = (d and x["errors"] == 0 and x["p99"] is not None and d["p99"] is not None
                      and x["p99"] - d["p99"] < 5)
            if ok and not stopped[t]:
                best[t] = rate
            elif not ok:
                stopped[t] = True
        open_lines.append(f"- {int(rate)} rps: " + "; ".join(parts))
    for t in TARGETS:
        b = best[t]
        cell[t]["open"] = "below lowest step" if b is None else f"{int(b):,}"

    st = next((r["r"] for r in rows if r["phase"] == "streams"), None)
    if st:
        held = st["open_at_sample"]
        per_k = (st["rss_during_kib"] - st["rss_before_kib"]) / 1024 / held * 1000 if held > 0 else None
        cell["gateway"]["streams_mem"] = fmt(per_k, 1)
        cell["gateway"]["streams_ok"] = f"{st['ok']:,} of {st['k']:,} ({st['failed']} failed)"
    for t in ("direct", "nginx"):
        cell[t]["streams_mem"] = cell[t]["streams_ok"] = "—"

    now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    mode = " --quick" if a.quick else ""
    out = [f"RouteAll scripts/bench{mode}: commit {a.commit}, {now}, {a.rounds} round(s) x {a.seconds} s per wrk phase, "
           f"wall {a.wall} s", "",
           "| | direct | nginx | gateway | hot-path target (gateway) |", "| --- | --- | --- | --- | --- |"]

    def row(label, key, goal=""):
        out.append(f"| {label} | " + " | ".join(cell[t].get(key, "—") for t in TARGETS) + f" | {goal} |")

    row("c=1 p50 / p99 latency, ms", "c1")
    row("added p50 at c=1, ms", "p50", GOALS["p50"])
    row("added p99 at c=1, ms", "p99", GOALS["p99"])
    row("stream time to first chunk p99, ms", "ttfc_abs")
    row("added time to first chunk p99, ms", "ttfc", GOALS["ttfc"])
    row("c=64 throughput, req/s", "rps")
    row("c=64 throughput vs direct", "ratio", GOALS["ratio"])
    row("CPU per request at c=64, ms (all processes)", "cpu", GOALS["cpu"])
    row("RSS after the run, MiB (all processes)", "rss", GOALS["rss"])
    row("open loop, 50 ms upstream: highest rate (rps)", "open", GOALS["open"])
    row("RSS per 1,000 open streams, MiB (gateway+adapter)", "streams_mem", GOALS["streams_mem"])
    row(f"{a.streams:,} concurrent slow streams completed", "streams_ok", GOALS["streams_ok"])
    out += ["", "Errors (c=1, c=64, stream phases): " + ", ".join(f"{t} {errors[t]}" for t in TARGETS),
            "RSS by process (MiB): " + "; ".join(f"{t}: {rss_detail.get(t, '—')}" for t in TARGETS),
            "Open-loop steps (latency from the scheduled send time; direct sets the baseline; "
            "nginx/gateway count while added p99 < 5 ms and no errors):"] + open_lines
    if st:
        out.append(f"Streams: {st['open_at_sample']:,} open when sampled after a {st['ramp_s']} s ramp; gateway+adapter "
                   f"RSS {st['rss_before_kib'] / 1024:.1f} → {st['rss_during_kib'] / 1024:.1f} MiB")
    print("\n".join(out))


if __name__ == "__main__":
    main()
