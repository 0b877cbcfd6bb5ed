#!/usr/bin/env python3
"""Crash test of `yuqing serve` (issue 7): SIGKILL at random moments during collection
and alert sending, restart, and check after every restart and at the end that nothing
was lost or duplicated.

The harness serves its own test site on 127.0.0.1 (feeds that keep publishing
articles, some of them reposts of others, some complaints that a local source makes
major-sensitive, some irrelevant; a webhook receiver that records every alert key and
answers slowly, so that kills land in the middle of sends), runs the release binary
against it, and drives the handling flow through the API between kills (assess,
establish facts, decide, respond, report back, report an item), remembering every step
the API acknowledged.

After each kill, with no yuqing process running, it reads the database directly
(sqlite3 or psql) and checks:
  - durability: every item seen in an earlier check is still there with its URL; every
    alert key the receiver got names a stored item; every acknowledged case step is
    there;
  - no duplicate: one item per canonical URL and per article of the site;
  - cases: steps numbered 1..n, each starting where the last ended, the case's state the
    last step's; every major-sensitive item has its case (or its root's open case);
  - outbox: every first-seen item has its alert row, reposts none (same transaction);
  - search: on odd kills, `yuqing search 上犹` (which opens the store and catches the
    index up) counts every item; on even kills, the restarted `serve` answers the API
    with at least every item stored before the kill (it caught up on start); on SQLite
    the lag of the index at the moment of the kill is recorded.
At the end it stops publishing, lets one last `serve` finish, and checks that every
relevant article the site published is stored exactly once (none of the irrelevant
ones), that every first-seen item's alert reached the receiver (repeats counted and
dropped by key, as a receiver does with Idempotency-Key), and that search counts every item.

Usage: crash.py --backend sqlite|postgres --kills N --bin PATH --work DIR [--seed S]
Prints a summary and writes DIR/result.json; exits 1 when a check failed.
"""

import argparse
import hashlib
import http.server
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from email.utils import formatdate

FEEDS = 24
INTERVAL = "1m"  # the shortest interval yuqing accepts (polite collection)
PUBLISH_EVERY = 12.0  # seconds between two articles of one feed
QUERY_WORD = "上犹"  # every relevant article has it (the watch rule needs it)

WORDS = (
    "春耕 农资 化肥 种子 水利 灌溉 道路 桥梁 学校 医院 养老 低保 医保 社保 就业 培训 创业 贷款 贴息 产业 脐橙 茶叶 "
    "蔬菜 生猪 旅游 民宿 电商 物流 供电 供水 燃气 垃圾 污水 绿化 造林 防汛 抗旱 救灾 安置 搬迁 住房 棚改 租金 奖金 "
    "绩效 考核 审计 监督 公示 听证 问卷 走访 座谈 热线 窗口 审批 备案 许可 执法 检查 整改 通报 约谈 表彰 慰问 帮扶 "
    "结对 驻村 合作社 村委会 居委会 街道 社区 网格 志愿者 党员 干部 群众 企业 商户 学生 教师 医生 护士 司机 工人 "
    "农户 老人 儿童 残疾人 退役军人 预算 决算 债务 专项 转移支付 国库 采购 招标 合同 验收 结算 拨付 报账 票据 档案"
).split()

COMPLAINT = (
    "上犹县{w}补贴拖欠半年至今未发放，群众强烈不满。多名村民投诉称，有关部门推诿扯皮、敷衍塞责，"
    "反复上访无人理睬，办事人员态度恶劣，群众怨声载道，愤怒至极。有人质疑补贴资金被截留挪用，"
    "要求彻查追责。网友纷纷谴责这种欺压群众的恶劣行为，称寒心失望，{w2}问题严重损害政府公信力。"
)


def words(rng, n):
    out = []
    for i in range(n):
        out.append(rng.choice(WORDS))
        out.append("。" if i % 6 == 5 else "，")
    return "".join(out)


class Article:
    __slots__ = ("feed", "j", "at", "kind", "title", "paragraphs", "repost_of")

    def __init__(self, feed, j, at, kind, title, paragraphs, repost_of=None):
        self.feed, self.j, self.at, self.kind = feed, j, at, kind
        self.title, self.paragraphs, self.repost_of = title, paragraphs, repost_of

    @property
    def path(self):
        return f"/a/{self.feed}/{self.j}.html"

    @property
    def relevant(self):
        return self.kind != "irrelevant"


class Site:
    """The test site: feeds publishing over time, article pages, the webhook receiver."""

    def __init__(self, seed, t0):
        self.seed, self.t0 = seed, t0
        self.lock = threading.Lock()
        self.articles = {}  # path -> Article, in publication order per feed
        self.per_feed = [[] for _ in range(FEEDS)]
        self.publish_until = float("inf")
        self.gets = []  # (path, start, end or None)
        self.in_flight = {}  # id -> (kind, path, start)
        self.hooks = []  # (key, t)
        self.hook_in_flight = 0
        self.next_id = 0
        self.hook_delay = (0.02, 0.25)

    def article(self, feed, j):
        rng = random.Random(f"{self.seed}/{feed}/{j}")
        at = self.t0 + (feed * PUBLISH_EVERY / FEEDS) + j * PUBLISH_EVERY
        r = rng.random()
        local = feed % 3 == 0
        if r < 0.12 and local:
            kind = "complaint"
            title = f"上犹县{rng.choice(WORDS)}补贴拖欠群众强烈不满{feed}-{j}"
            paragraphs = [COMPLAINT.format(w=rng.choice(WORDS), w2=rng.choice(WORDS)), words(rng, 30)]
        elif r < 0.22:
            kind = "irrelevant"
            title = f"外地{rng.choice(WORDS)}工作动态{feed}-{j}"
            paragraphs = [f"某地近日开展{rng.choice(WORDS)}活动。" + words(rng, 36), words(rng, 36)]
        elif r < 0.34 and j > 2:
            # A repost of an earlier relevant article of another feed: same text, a lead added.
            other = (feed + 1 + rng.randrange(FEEDS - 1)) % FEEDS
            oj = rng.randrange(max(1, j - 2))
            orig = self.article(other, oj)
            if orig.kind == "irrelevant" or orig.kind == "repost":
                kind, title, paragraphs = "plain", f"上犹县财政补贴发放情况{feed}-{j}", self.plain(rng)
                return Article(feed, j, at, kind, title, paragraphs)
            return Article(feed, j, at, "repost", f"转载：{orig.title}", ["（本网讯）" + orig.paragraphs[0]] + orig.paragraphs[1:], orig.path)
        else:
            kind = "plain"
            title = f"上犹县财政补贴发放情况{feed}-{j}"
            paragraphs = self.plain(rng)
        return Article(feed, j, at, kind, title, paragraphs)

    @staticmethod
    def plain(rng):
        return ["上犹县财政局近日通报：" + words(rng, 36), words(rng, 36), words(rng, 36)]

    def published(self, feed, now):
        """Articles of a feed published by `now` (made on first sight, then kept)."""
        with self.lock:
            lst = self.per_feed[feed]
            while True:
                j = len(lst)
                a = self.article(feed, j)
                if a.at > now or a.at > self.publish_until:
                    break
                lst.append(a)
                self.articles[a.path] = a
            return list(lst)

    def all_published(self):
        with self.lock:
            return list(self.articles.values())

    def begin(self, kind, path):
        with self.lock:
            self.next_id += 1
            self.in_flight[self.next_id] = (kind, path, time.time())
            return self.next_id

    def end(self, rid, path, start):
        with self.lock:
            self.in_flight.pop(rid, None)
            self.gets.append((path, start, time.time()))

    def busy(self):
        """What was in flight at this moment (for the kill log)."""
        with self.lock:
            kinds = {k for (k, _, _) in self.in_flight.values()}
            return ("fetch" in kinds, self.hook_in_flight > 0)


def article_html(a, t):
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(a.at))
    body = "\n".join(f"<p>{p}</p>" for p in a.paragraphs)
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{a.title}_上犹新闻网</title></head>'
        f'<body><div class="nav"><a href="/">首页</a> | <a href="/news/">新闻</a></div>'
        f'<div class="main"><h1>{a.title}</h1><div class="info">发布时间：{when}　来源：上犹新闻网</div>'
        f'<div class="content">{body}</div></div></body></html>'
    )


def feed_xml(base, k, arts):
    items = "".join(
        f"<item><title>{a.title}</title><link>{base}{a.path}</link>"
        f"<pubDate>{formatdate(a.at, usegmt=True)}</pubDate></item>"
        for a in reversed(arts)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>feed {k}</title>'
        f"<link>{base}/</link><description>test feed</description>{items}</channel></rss>"
    )


def make_handler(site, base_ref):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, code, body, ctype, extra=()):
            data = body.encode("utf-8") if isinstance(body, str) else body
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?")[0]
            start = time.time()
            rid = site.begin("fetch", path)
            try:
                self.get(path)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                site.end(rid, path, start)

        def get(self, path):
            now = time.time()
            if path == "/robots.txt":
                return self.send(404, "", "text/plain")
            m = re.fullmatch(r"/feed/(\d+)\.xml", path)
            if m and int(m.group(1)) < FEEDS:
                body = feed_xml(base_ref[0], int(m.group(1)), site.published(int(m.group(1)), now))
                etag = '"' + hashlib.sha1(body.encode()).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    return self.send(304, b"", "application/rss+xml", [("ETag", etag)])
                return self.send(200, body, "application/rss+xml; charset=utf-8", [("ETag", etag)])
            a = site.articles.get(path)
            if a is not None:
                return self.send(200, article_html(a, now), "text/html; charset=utf-8")
            return self.send(404, "not found", "text/plain")

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(n)
            if self.path != "/hook":
                return self.send(404, "", "text/plain")
            key = self.headers.get("Idempotency-Key", "")
            with site.lock:
                site.hook_in_flight += 1
                # Recorded on receipt: a kill before the sender marks it sent makes a repeat.
                site.hooks.append((key, time.time()))
            try:
                time.sleep(random.uniform(*site.hook_delay))
                self.send(200, "ok", "text/plain")
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                with site.lock:
                    site.hook_in_flight -= 1

    return H


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def config_text(base):
    c = f"""
[org]
name = "上犹县财政局"
timezone = "Asia/Shanghai"

[collect]
user_agent_contact = "https://example.org/about-our-monitoring"
allow_private = ["127.0.0.0/8"]
min_host_delay = "100ms"
timeout = "5s"
connect_timeout = "2s"
retries = 0
jitter = 0.0
concurrency = 4
max_articles_per_pass = 50
source_lease = "5s"

[[rules]]
name = "上犹财政"
query = '上犹 AND (财政 OR 补贴)'

[[alerts.channels]]
name = "hook"
kind = "webhook"
url = "{base}/hook"

[[alerts.routes]]
channels = ["hook"]
"""
    for k in range(FEEDS):
        tier = "local" if k % 3 == 0 else ["home-city", "portal", "central", "other"][k % 4]
        weight = "1.0" if k % 3 == 0 else "0.6"
        c += f'\n[[sources]]\nname = "feed{k}"\nkind = "feed"\nurl = "{base}/feed/{k}.xml"\ntier = "{tier}"\ninterval = "{INTERVAL}"\nweight = {weight}\n'
    return c


class Db:
    """Read access to the store, with no yuqing running (or beside one)."""

    def __init__(self, backend, data_dir, url):
        self.backend, self.data_dir, self.url = backend, data_dir, url

    def rows(self, sql):
        return self.snapshot([sql])[0]

    def snapshot(self, queries):
        """The answers of several queries, all from one consistent snapshot."""
        if self.backend == "sqlite":
            path = os.path.join(self.data_dir, "yuqing.db")
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, isolation_level=None)
            try:
                con.execute("BEGIN")
                out = [[tuple("" if v is None else str(v) for v in r) for r in con.execute(q)] for q in queries]
                con.execute("COMMIT")
                return out
            finally:
                con.close()
        sep = "@@yuqing-crash-sep@@"
        script = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n"
        script += "".join(f"{q};\n\\echo {sep}\n" for q in queries) + "COMMIT;\n"
        text = subprocess.run(
            ["psql", "-X", "-q", "-At", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-d", self.url, "-f", "-"],
            input=script, capture_output=True, text=True, check=True,
        ).stdout
        parts = text.split(sep + "\n")[: len(queries)]
        return [[tuple(line.split("\x1f")) for line in part.split("\n") if line] for part in parts]


class Harness:
    def __init__(self, args):
        self.args = args
        self.work = os.path.abspath(args.work)
        os.makedirs(self.work, exist_ok=True)
        self.data = os.path.join(self.work, "data")
        self.bin = os.path.abspath(args.bin)
        self.t0 = time.time() + 1.0
        self.site = Site(args.seed, self.t0)
        self.rng = random.Random(args.seed)
        self.port = free_port()
        self.violations = []
        self.seen_items = {}  # id -> canonical url
        self.acked = []  # (case_id, seq, action)
        self.kills = []  # dicts
        self.url = ""
        self.log = open(os.path.join(self.work, "serve.log"), "ab")
        self.proc = None
        self.last_count = 0

    # ---- plumbing -------------------------------------------------------------------

    def env(self):
        e = dict(os.environ)
        e["RUST_LOG"] = os.environ.get("CRASH_RUST_LOG", "info")
        e.pop("YUQING_DATABASE_URL", None)
        return e

    def yuqing(self, *args, stdin=None):
        cmd = [self.bin, "--data", self.data, "--config", self.cfg]
        if self.url:
            cmd += ["--database-url", self.url]
        r = subprocess.run(cmd + list(args), input=stdin, capture_output=True, text=True, env=self.env(), timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"yuqing {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout

    def violation(self, when, what):
        self.violations.append({"when": when, "what": what})
        print(f"  VIOLATION ({when}): {what}", flush=True)

    def start_site(self):
        base_ref = [""]
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.site, base_ref))
        srv.daemon_threads = True
        base_ref[0] = f"http://127.0.0.1:{srv.server_address[1]}"
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.base = base_ref[0]

    def setup(self):
        self.start_site()
        self.cfg = os.path.join(self.work, "yuqing.toml")
        with open(self.cfg, "w") as f:
            f.write(config_text(self.base))
        if self.args.backend == "postgres":
            self.dbname = f"yuqing_crash_{os.getpid()}_{int(time.time())}"
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "-E", "UTF8", "-T", "template0", self.dbname], check=True)
            self.url = f"postgres://postgres@127.0.0.1:5432/{self.dbname}"
        self.db = Db(self.args.backend, self.data, self.url)
        self.yuqing("user", "add", "office1", "--role", "office", stdin="office-password-1\n")
        self.yuqing("user", "add", "leader1", "--role", "leader", stdin="leader-password-1\n")
        self.office = self.yuqing("token", "create", "--user", "office1").strip()
        self.leader = self.yuqing("token", "create", "--user", "leader1").strip()

    def teardown(self):
        if self.args.backend == "postgres" and not self.args.keep:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", self.dbname], check=False)

    def api(self, method, path, token, body=None, timeout=5):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, None

    def start_serve(self):
        cmd = [self.bin, "--data", self.data, "--config", self.cfg]
        if self.url:
            cmd += ["--database-url", self.url]
        cmd += ["serve", "--listen", f"127.0.0.1:{self.port}"]
        self.log.write(f"\n==== start {time.strftime('%H:%M:%S')} ====\n".encode())
        self.log.flush()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=self.env())
        started = time.time()
        while time.time() - started < 120:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return time.time() - started
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("serve did not answer /healthz within 120 s")

    def kill_serve(self):
        busy = self.site.busy()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        if self.args.backend == "postgres":
            self.wait_sessions_gone()
        return busy

    def wait_sessions_gone(self):
        """PostgreSQL finishes a statement a killed client already sent (a COMMIT among
        them) after the client is gone: wait until the dead process's sessions have
        ended, so the check reads the state the crash left, not one still moving."""
        sql = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
               "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        deadline = time.time() + 30
        while time.time() < deadline:
            if int(self.db.rows(sql)[0][0]) == 0:
                return
            time.sleep(0.05)
        self.violation("kill", "the killed process's PostgreSQL sessions were still open after 30 s")

    # ---- the handling flow, driven between kills --------------------------------------

    def case_actor(self, stop):
        rng = random.Random(self.rng.random())
        while not stop.is_set():
            try:
                self.case_step(rng)
            except (OSError, ValueError, KeyError, TypeError):
                pass  # the process is being killed or starting: try again
            stop.wait(rng.uniform(0.05, 0.4))

    def case_step(self, rng):
        if rng.random() < 0.15:
            # Someone reports an ordinary item to the office.
            st, page = self.api("GET", f"/api/v1/items?limit=50&offset={rng.randrange(0, 200)}", self.office)
            if st == 200 and page["items"]:
                item = rng.choice(page["items"])
                st, body = self.api("POST", f"/api/v1/items/{item['id']}/report", self.office, {"note": "请网宣办关注"})
                if st == 201:
                    self.ack(body["case"], "report")
            return
        st, body = self.api("GET", "/api/v1/cases?open=true&limit=200", self.office)
        if st != 200 or not body["cases"]:
            return
        case = rng.choice(body["cases"])
        state = case["state"]
        token = self.office
        if state == "reported":
            path = rng.choice(["policy", "facts", "leadership"])
            act = {"action": "assess", "level": rng.choice(["ordinary", "important", "major-sensitive"]), "path": path, "note": "已研判"}
        elif state == "fact-finding":
            act = {"action": "establish-facts", "note": "经核实，情况属实，适用县补贴发放办法"}
        elif state == "leadership-review":
            act, token = {"action": "decide", "note": "同意按政策答复"}, self.leader
        elif state == "answering":
            act = {"action": "respond", "channel": "县政府网站", "text": "关于补贴发放问题的回应", "note": "已发布"}
        elif state == "answered":
            act = {"action": "report-back", "note": "已报县网信办"}
        else:
            return
        if rng.random() < 0.05:
            act, token = {"action": "dismiss", "note": "无需处置"}, self.office
        st, out = self.api("POST", f"/api/v1/cases/{case['id']}/actions", token, act)
        if st == 200:
            self.ack(out, act["action"])

    def ack(self, case, action):
        steps = case.get("steps") or []
        mine = [s for s in steps if s.get("action") == action]
        if mine:
            last = max(mine, key=lambda s: s["seq"])
            self.acked.append((case["id"], last["seq"], action))

    # ---- checks --------------------------------------------------------------------

    def check(self, when, final=False):
        v0 = len(self.violations)
        # What was observed outside the store is read first: it must all be in the snapshot.
        keys = {k for (k, _) in list(self.site.hooks)}
        acked = list(self.acked)
        items, outbox, cases, steps = self.db.snapshot([
            "SELECT id, canonical_url, duplicate_of, level, created_at FROM items ORDER BY id",
            "SELECT key, item_id, sent_at, parked FROM alert_outbox WHERE channel = 'hook'",
            "SELECT id, item_id, state, opened_at, closed_at FROM cases ORDER BY id",
            "SELECT case_id, seq, action, from_state, to_state FROM case_steps ORDER BY case_id, seq",
        ])
        by_id = {int(r[0]): r for r in items}
        # Durability of what was seen before.
        for iid, url in self.seen_items.items():
            r = by_id.get(iid)
            if r is None or r[1] != url:
                self.violation(when, f"item {iid} ({url}) seen earlier is gone or changed")
        for r in items:
            self.seen_items[int(r[0])] = r[1]
        # One item per URL and per article of the site.
        paths = {}
        for r in items:
            m = re.search(r"(/a/\d+/\d+\.html)$", r[1])
            p = m.group(1) if m else r[1]
            paths.setdefault(p, []).append(int(r[0]))
        for p, ids in paths.items():
            if len(ids) > 1:
                self.violation(when, f"article {p} stored {len(ids)} times: items {ids}")
        for p in paths:
            a = self.site.articles.get(p)
            if a is not None and not a.relevant:
                self.violation(when, f"irrelevant article {p} was stored")
        # Alerts received name stored items.
        for k in keys:
            m = re.fullmatch(r"item-(\d+)", k)
            if not m or int(m.group(1)) not in by_id:
                self.violation(when, f"alert {k!r} received for no stored item")
        # Outbox rows written with their item.
        out_items = {}
        for r in outbox:
            out_items.setdefault(int(r[1]), []).append(r)
        for r in items:
            iid, dup = int(r[0]), r[2]
            n = len(out_items.get(iid, []))
            if dup == "" and n != 1:
                self.violation(when, f"first-seen item {iid} has {n} alert rows")
            if dup != "" and n != 0:
                self.violation(when, f"repost item {iid} has {n} alert rows")
            if dup != "" and int(dup) not in by_id:
                self.violation(when, f"item {iid} repeats item {dup}, which is not stored")
        # Cases and their steps.
        by_case = {}
        for s in steps:
            by_case.setdefault(int(s[0]), []).append(s)
        for c in cases:
            cid = int(c[0])
            ss = by_case.get(cid, [])
            if [int(s[1]) for s in ss] != list(range(1, len(ss) + 1)):
                self.violation(when, f"case {cid} steps are numbered {[s[1] for s in ss]}")
                continue
            if not ss or ss[0][2] != "report":
                self.violation(when, f"case {cid} does not start with a report step")
                continue
            for a, b in zip(ss, ss[1:]):
                if b[3] != a[4] and b[2] != "report":
                    self.violation(when, f"case {cid} step {b[1]} starts in {b[3]} but step {a[1]} ended in {a[4]}")
            if c[2] != ss[-1][4]:
                self.violation(when, f"case {cid} is {c[2]} but its last step ends in {ss[-1][4]}")
        have = {(int(s[0]), int(s[1]), s[2]) for s in steps}
        for a in acked:
            if a not in have:
                self.violation(when, f"acknowledged step {a} is missing")
        cases_of = {}
        for c in cases:
            if c[1] != "":
                cases_of.setdefault(int(c[1]), []).append(c)
        for r in items:
            if r[3] != "major-sensitive":
                continue
            iid = int(r[0])
            if iid in cases_of:
                continue
            root = int(r[2]) if r[2] != "" else None
            covered = root is not None and any(
                c[3] <= r[4] and (c[4] == "" or c[4] >= r[4]) for c in cases_of.get(root, [])
            )
            if not covered:
                self.violation(when, f"major-sensitive item {iid} has no case")
        return {
            "items": len(items),
            "cases": len(cases),
            "steps": len(steps),
            "outbox": len(outbox),
            "sent": sum(1 for r in outbox if r[2] != ""),
            "new_violations": len(self.violations) - v0,
        }

    def index_lag(self):
        """SQLite: items the tantivy index had not committed at the kill."""
        if self.args.backend != "sqlite":
            return None
        try:
            with open(os.path.join(self.data, "index", "meta.json")) as f:
                committed = int(json.load(f).get("payload") or 0)
        except (OSError, ValueError):
            committed = 0
        rows = self.db.rows(f"SELECT COUNT(*) FROM items WHERE id > {committed}")
        return int(rows[0][0])

    def search_count(self):
        out = self.yuqing("search", "--limit", "1", QUERY_WORD)
        m = re.search(r"(\d+) of (\d+) items", out)
        return int(m.group(2)) if m else -1

    # ---- the run -------------------------------------------------------------------

    def run(self):
        self.setup()
        started = time.time()
        stats = {"kills": 0, "kills_during_fetch": 0, "kills_during_alert": 0, "index_lag_max": 0, "kills_index_behind": 0}
        for i in range(1, self.args.kills + 1):
            up = self.start_serve()
            if i % 2 == 0 and i > 1:
                # Even kills: the restarted serve itself caught the index up on start.
                st, page = self.api("GET", f"/api/v1/items?q={urllib.parse.quote(QUERY_WORD)}&limit=1", self.office, timeout=30)
                if st != 200 or page["total"] < self.last_count:
                    self.violation(f"restart {i}", f"search answers {page and page['total']} items, {self.last_count} were stored before the kill")
            stop = threading.Event()
            actor = threading.Thread(target=self.case_actor, args=(stop,), daemon=True)
            actor.start()
            # Random moments: mostly seconds into the run, sometimes right after the start.
            wait = self.rng.uniform(0.0, 0.6) if self.rng.random() < 0.2 else self.rng.uniform(0.6, 7.0)
            time.sleep(wait)
            fetching, alerting = self.kill_serve()
            stop.set()
            actor.join()
            stats["kills"] += 1
            stats["kills_during_fetch"] += fetching
            stats["kills_during_alert"] += alerting
            lag = self.index_lag()
            if lag:
                stats["kills_index_behind"] += 1
                stats["index_lag_max"] = max(stats["index_lag_max"], lag)
            c = self.check(f"kill {i}")
            self.last_count = c["items"]
            if i % 2 == 1:
                n = self.search_count()
                if n != c["items"]:
                    self.violation(f"kill {i}", f"search counts {n} items, the store holds {c['items']}")
            self.kills.append({"i": i, "startup_s": round(up, 2), "up_s": round(wait, 2), "fetching": fetching, "alerting": alerting, "index_lag": lag, **c})
            print(
                f"kill {i:3}: up {wait:4.1f}s (start {up:4.1f}s) fetching={int(fetching)} alerting={int(alerting)} "
                f"items={c['items']} cases={c['cases']} steps={c['steps']} alerts sent={c['sent']}/{c['outbox']} "
                f"index lag={lag} violations={len(self.violations)}",
                flush=True,
            )
        # The end: no more articles; one last serve collects the rest and sends every alert.
        self.site.publish_until = time.time()
        for k in range(FEEDS):
            self.site.published(k, time.time())
        expected = [a for a in self.site.all_published() if a.relevant]
        self.start_serve()
        deadline = time.time() + self.args.settle
        while time.time() < deadline:
            time.sleep(3)
            c = self.check("settling")
            if c["items"] >= len(expected) and c["sent"] == c["outbox"] and len({k for k, _ in self.site.hooks}) >= c["outbox"]:
                break
        time.sleep(2)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        final = self.check("final", final=True)
        final["search"] = self.search_count()
        if final["search"] != final["items"]:
            self.violation("final", f"search counts {final['search']} items, the store holds {final['items']}")
        stored = {re.search(r"(/a/\d+/\d+\.html)$", u).group(1) for u in self.seen_items.values() if re.search(r"/a/\d+/\d+\.html$", u)}
        missing = [a.path for a in expected if a.path not in stored]
        if missing:
            self.violation("final", f"{len(missing)} relevant articles never stored: {missing[:10]}")
        roots = {int(r[0]) for r in self.db.rows("SELECT id FROM items WHERE duplicate_of IS NULL")}
        keys = [k for k, _ in self.site.hooks]
        got = {int(k[5:]) for k in set(keys) if k.startswith("item-")}
        if got != roots:
            self.violation("final", f"alerts: {len(roots - got)} first-seen items never alerted {sorted(roots - got)[:10]}, {len(got - roots)} unexpected")
        served = {p for (p, _, _) in self.site.gets if p.startswith("/a/")}
        summary = {
            "backend": self.args.backend,
            "kills": stats["kills"],
            "kills_during_fetch": stats["kills_during_fetch"],
            "kills_during_alert": stats["kills_during_alert"],
            "kills_with_index_behind": stats["kills_index_behind"],
            "index_lag_max": stats["index_lag_max"],
            "articles_published": len(self.site.articles),
            "relevant_published": len(expected),
            "article_pages_served": len([1 for (p, _, _) in self.site.gets if p.startswith("/a/")]),
            "distinct_articles_served": len(served),
            "items": final["items"],
            "reposts": sum(1 for a in expected if a.kind == "repost"),
            "first_seen_items": len(roots),
            "major_sensitive_items": int(self.db.rows("SELECT COUNT(*) FROM items WHERE level = 'major-sensitive'")[0][0]),
            "cases": final["cases"],
            "case_steps": final["steps"],
            "acknowledged_steps": len(self.acked),
            "alert_rows": final["outbox"],
            "alerts_received": len(keys),
            "alert_keys_received": len(set(keys)),
            "alert_repeats_dropped": len(keys) - len(set(keys)),
            "search_count": final["search"],
            "violations": len(self.violations),
            "violation_list": self.violations[:50],
            "wall_s": round(time.time() - started, 1),
        }
        with open(os.path.join(self.work, "result.json"), "w") as f:
            json.dump({"summary": summary, "kills": self.kills}, f, ensure_ascii=False, indent=1)
        self.teardown()
        return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--settle", type=float, default=240.0, help="seconds the last serve may take to catch up")
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = ap.parse_args()
    h = Harness(args)
    try:
        s = h.run()
    finally:
        if h.proc is not None:
            h.proc.kill()
    print(json.dumps({k: v for k, v in s.items() if k != "violation_list"}, ensure_ascii=False))
    for v in s["violation_list"]:
        print(f"violation: {v['when']}: {v['what']}")
    sys.exit(1 if s["violations"] else 0)


if __name__ == "__main__":
    main()
