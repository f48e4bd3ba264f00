"""Python load generators for scripts/bench (asyncio, raw HTTP/1.1 over keep-alive sockets).

    loadgen.py ttfc   --url U --key K --model M -n N             time to first SSE data: chunk
    loadgen.py open   --url U --key K --model M --rate R -s S    open-loop, fixed send schedule
    loadgen.py streams --url U --key K --model M -k K --pids a,b  hold K slow streams, RSS delta

Each prints one JSON object on stdout. Latencies are in milliseconds."""

import argparse
import asyncio
import json
import resource
import sys
import time
from urllib.parse import urlparse


def pct(samples, p):
    if not samples:
        return None
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s))) - 1))]


def build_request(url, key, model, stream, words=None):
    u = urlparse(url)
    body = {"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": "Hello bench!"}]}
    if stream:
        body["stream"] = True
    if words:
        body["messages"][0]["content"] = f"Hello bench! [[fake words={words}]]"
        body["max_tokens"] = words + 8
    data = json.dumps(body).encode()
    head = (f"POST {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode()
    return u.hostname, u.port, head + data


async def read_response(reader, on_first_data=None):
    """Reads one HTTP/1.1 response; returns (status, body bytes). Calls on_first_data() once when
    the first SSE 'data:' line has arrived. Handles Content-Length and chunked bodies."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    body = bytearray()
    seen = False

    def feed(piece):
        nonlocal seen
        body.extend(piece)
        if on_first_data and not seen and b"data:" in body:
            seen = True
            on_first_data()

    if "content-length" in headers:
        feed(await reader.readexactly(int(headers["content-length"])))
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers (the gateway sends usage trailers)
                break
            feed(await reader.readexactly(size))
            await reader.readexactly(2)
    else:  # body delimited by the end of the connection
        while True:
            piece = await reader.read(65536)
            if not piece:
                break
            feed(piece)
        return status, bytes(body), True
    return status, bytes(body), headers.get("connection", "").lower() == "close"


async def ttfc(args):
    host, port, req = build_request(args.url, args.key, args.model, True)
    reader, writer = await asyncio.open_connection(host, port)
    samples, errors = [], 0
    for i in range(args.n + args.warmup):
        t0 = time.perf_counter()
        first = []
        writer.write(req)
        status, body, close = await read_response(reader, lambda: first.append(time.perf_counter()))
        if status != 200 or not first or b"[DONE]" not in body:
            errors += 1
        elif i >= args.warmup:
            samples.append((first[0] - t0) * 1000)
        if close:
            writer.close()
            reader, writer = await asyncio.open_connection(host, port)
    writer.close()
    return {"n": len(samples), "errors": errors, "p50": pct(samples, 50), "p99": pct(samples, 99)}


async def open_loop(args):
    """Sends at a fixed rate; a request's latency runs from its scheduled send time, so a slow
    server (or a late generator) shows up as latency instead of a lower offered rate."""
    host, port, req = build_request(args.url, args.key, args.model, False)
    idle = []
    lat, errors, opened = [], 0, 0
    total = int(args.rate * args.seconds)
    # warm a pool of connections: rate x (upstream latency + slack)
    for _ in range(min(int(args.rate * 0.06) + 4, 1000)):
        idle.append(await asyncio.open_connection(host, port))
        opened += 1
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def one(sched):
        nonlocal errors, opened
        conn = idle.pop() if idle else None
        try:
            if conn is None:
                conn = await asyncio.open_connection(host, port)
                opened += 1
            conn[1].write(req)
            status, _, close = await read_response(conn[0])
            done = loop.time()
            if status != 200:
                errors += 1
            else:
                lat.append((done - sched) * 1000)
            if close:
                conn[1].close()
            else:
                idle.append(conn)
        except Exception:
            errors += 1
            if conn:
                conn[1].close()

    tasks = []
    for i in range(total):
        sched = start + i / args.rate
        delay = sched - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(sched)))
    await asyncio.gather(*tasks)
    for _, w in idle:
        w.close()
    return {"rate": args.rate, "n": len(lat), "errors": errors, "connections": opened,
            "p50": pct(lat, 50), "p99": pct(lat, 99)}


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


async def streams(args):
    """Opens K slow streams (one connection each), samples RSS of --pids once all are open (first
    chunk received), then waits for all to finish and counts clean completions ([DONE], 200)."""
    host, port, req = build_request(args.url, args.key, args.model, True, words=args.words)
    pids = [p for p in args.pids.split(",") if p]
    before = rss_kib(pids)
    opened = asyncio.Event()
    n_first = 0
    ok, failed = 0, 0
    sem = asyncio.Semaphore(200)  # connection ramp: at most 200 handshakes in flight

    def got_first():
        nonlocal n_first
        n_first += 1
        if n_first == args.k:
            opened.set()

    finished_open = 0  # streams that got a first chunk and have ended since

    async def one():
        nonlocal ok, failed, finished_open
        mine = []
        try:
            async with sem:
                reader, writer = await asyncio.open_connection(host, port)
                writer.write(req)
            status, body, _ = await read_response(reader, lambda: (mine.append(1), got_first()))
            writer.close()
            if status == 200 and b"[DONE]" in body and b'"error"' not in body:
                ok += 1
            else:
                failed += 1
        except Exception:
            failed += 1
        if mine:
            finished_open += 1
        if ok + failed >= args.k - n_first + finished_open and not opened.is_set():
            opened.set()  # the rest never got a first chunk: sample with what is open

    t0 = time.perf_counter()
    tasks = [asyncio.ensure_future(one()) for _ in range(args.k)]
    try:
        await asyncio.wait_for(opened.wait(), timeout=args.timeout)
    except asyncio.TimeoutError:
        pass
    ramp = time.perf_counter() - t0
    open_now = n_first - finished_open
    during = rss_kib(pids)
    await asyncio.wait(tasks, timeout=args.timeout * 3)
    for t in tasks:
        t.cancel()
    return {"k": args.k, "open_at_sample": open_now, "ramp_s": round(ramp, 2), "rss_before_kib": before,
            "rss_during_kib": during, "ok": ok, "failed": failed + sum(1 for t in tasks if t.cancelled())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["ttfc", "open", "streams"])
    ap.add_argument("--url", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--model", default="gpt-4o-mini")
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("-s", "--seconds", type=float, default=5)
    ap.add_argument("-k", type=int, default=2000)
    ap.add_argument("--words", type=int, default=15)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--pids", default="")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    fn = {"ttfc": ttfc, "open": open_loop, "streams": streams}[args.mode]
    print(json.dumps(asyncio.run(fn(args))))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
