#!/usr/bin/env python3
"""A local test site that keeps publishing, for `yuqing serve` to collect while wrk loads
its pages (benches/scale/run.sh): the crash harness's site (benches/crash/crash.py:
feeds of Chinese articles about one county, reposts, complaints, irrelevant pages, a
webhook receiver), with more feeds, spread over several loopback hosts so that polite
collection (one request at a time per host, 100 ms apart at least) still lets
`--rate` articles a second through.

Usage: site.py --config OUT.toml [--feeds 60] [--hosts 12] [--rate 20] [--seed 7]
Writes the yuqing configuration that collects it to OUT.toml, prints `ready` once the
site answers, then every 10 s the articles fetched so far and the rate over the last
10 s. Runs until killed; meant for minutes (its feeds list every article published
since the start).
"""

import argparse
import http.server
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crash"))
import crash  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--feeds", type=int, default=60)
    ap.add_argument("--hosts", type=int, default=12)
    ap.add_argument("--rate", type=float, default=20.0, help="articles published per second, all feeds together")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    # The crash site reads these module constants when it makes and publishes articles.
    crash.FEEDS = args.feeds
    crash.PUBLISH_EVERY = args.feeds / args.rate
    site = crash.Site(args.seed, time.time() + 1.0)
    site.hook_delay = (0.0, 0.01)

    bases = []
    for h in range(args.hosts):
        host = f"127.0.0.{h + 1}"
        base_ref = [""]
        srv = http.server.ThreadingHTTPServer((host, 0), crash.make_handler(site, base_ref))
        srv.daemon_threads = True
        base_ref[0] = f"http://{host}:{srv.server_address[1]}"
        bases.append(base_ref[0])
        threading.Thread(target=srv.serve_forever, daemon=True).start()

    # The crash configuration, every feed on its host, a wider collector.
    text = crash.config_text(bases[0])

    def swap(text, old, new):
        # The crash harness's configuration is edited, not copied: fail loudly if it changed.
        assert old in text, f"crash.config_text no longer has {old!r}"
        return text.replace(old, new)

    for k in range(args.feeds):
        text = swap(text, f"{bases[0]}/feed/{k}.xml\"", f"{bases[k % args.hosts]}/feed/{k}.xml\"")
    text = swap(text, "concurrency = 4", "concurrency = 8")
    text = swap(text, "max_articles_per_pass = 50", "max_articles_per_pass = 200")
    with open(args.config, "w") as f:
        f.write(text)
    print("ready", flush=True)

    last, last_t = 0, time.time()
    while True:
        time.sleep(10)
        with site.lock:
            n = sum(1 for (path, _, _) in site.gets if path.startswith("/a/"))
        now = time.time()
        print(f"site: {n} articles fetched, {(n - last) / (now - last_t):.1f}/s over the last 10 s", flush=True)
        last, last_t = n, now


if __name__ == "__main__":
    main()
