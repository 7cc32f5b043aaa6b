#!/usr/bin/env python3
"""Fills a heard database for the web benchmark: many threads, fast.

By default 1,000,000 messages in 200,000 threads across 500 organisations
(every open NHS trust, the rest open GP practices, from the real ODS lists),
with paused sources, staff accounts, statuses, assignees, tags, replies and
read receipts in realistic proportions, in one transaction with Python's
sqlite3. The schema is the binary's own: `heard --db PATH orgs import` makes
and migrates the database and loads the organisations first.

Sizes follow the channels: a patient's post is a title and one to a dozen
sentences (median about 400 bytes, a long tail to 3 KB); an organisation's
reply is shorter. Threads per organisation are skewed (a large trust has
thousands, a small practice a handful), as are messages per thread.

The full-text index stays right: the messages insert trigger is dropped for
the load, the index is rebuilt from the table in one pass ('rebuild'), and
the trigger is created again from its own stored SQL, so later inserts by
heard are indexed as usual. Every sources row is paused, so `heard serve`
on this database polls nothing.

Every account's password is --password (one scrypt hash, computed once with
hashlib in heard's format and shared: fine for a benchmark, never for real).

    bench/web_seed.py --db /tmp/web.db [--heard build/heard]
        [--messages 1000000] [--threads 200000] [--orgs 500] [--seed 1]

Prints what it made, the log-in for the admin, and how long each step took.
"""

import argparse
import base64
import hashlib
import os
import random
import sqlite3
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOW = 1795000000			# 2026-11-18, fixed so runs compare
SPAN = 2 * 365 * 86400			# two years of history

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# (connector, weight, has an organisation's reply path)
CONNECTORS = (("care-opinion", 45), ("nhs-website", 30),
              ("care-connect", 15), ("rss", 10))
STATUSES = (("new", 25), ("open", 20), ("in_progress", 10),
            ("resolved", 28), ("closed", 15), ("hidden", 2))
SEVERITIES = (("normal", 85), ("low", 6), ("high", 7), ("urgent", 2))
TAGS = ("waiting-times", "staff-attitude", "communication", "parking",
        "food", "cleanliness", "discharge", "appointments", "praise")

OPENINGS = (
    "I attended the {dept} on {day} with my {who}.",
    "My {who} was admitted to the {dept} last {day}.",
    "I would like to thank the team in the {dept}.",
    "I had an appointment at the {dept} on {day}.",
    "We were referred to the {dept} by our GP.",
    "I have been a patient of the {dept} for many years.",
)
SENTENCES = (
    "The nurses were kind and explained every step of the treatment.",
    "We waited over four hours before anyone told us what was happening.",
    "The doctor listened carefully and answered all of our questions.",
    "Parking was impossible and the machines only took coins.",
    "The discharge letter never reached our GP, so the prescription was "
    "delayed by a week.",
    "The ward was clean and quiet at night, which helped a great deal.",
    "Nobody answered the phone when I tried to rebook my appointment.",
    "The receptionist was rude when I asked how long the wait would be.",
    "The physiotherapist gave me exercises that really made a difference.",
    "Food arrived cold twice and my {who} could not reach the tray.",
    "I was given three different answers by three different members of "
    "staff.",
    "Everyone from the porters to the consultant treated us with dignity.",
    "The online booking system kept cancelling the slot I had chosen.",
    "My {who} is elderly and was left in a corridor for most of the night.",
    "The results came back quickly and were explained in plain language.",
    "I felt rushed and did not get the chance to mention my other symptoms.",
    "The signs to the {dept} were confusing and we got lost twice.",
    "Thank you to the student nurse who stayed with us when we were scared.",
)
CLOSINGS = (
    "Please pass on my thanks to everyone involved.",
    "I hope this feedback helps other patients.",
    "I would like someone to explain what went wrong.",
    "Overall I would recommend this service.",
    "I would not want anyone else to go through this.",
)
REPLIES = (
    "Dear {name}, thank you for taking the time to share your experience "
    "of our {dept}.",
    "I am sorry to hear that your visit did not meet the standard we "
    "expect.",
    "I have shared your feedback with the ward manager and the matron.",
    "It is lovely to hear such kind words about the team, who were "
    "delighted to read your comments.",
    "If you would like to discuss this further, please contact our Patient "
    "Advice and Liaison Service, quoting the reference above.",
    "We are reviewing how we keep patients informed of waiting times.",
)
DEPTS = ("emergency department", "maternity unit", "outpatient clinic",
         "children's ward", "eye clinic", "surgery", "stroke unit",
         "radiology department", "cardiology ward", "day surgery unit")
WHO = ("mother", "father", "son", "daughter", "husband", "wife", "partner",
       "grandmother", "friend")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
        "Sunday")
NAMES = ("A patient", "Anonymous", "Grateful daughter", "Mrs P",
         "Concerned relative", "J. Smith", "Local resident", "Service user")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True, help="database to create")
    p.add_argument("--heard", default=os.path.join(TOP, "build", "heard"))
    p.add_argument("--messages", type=int, default=1000000)
    p.add_argument("--threads", type=int, default=200000)
    p.add_argument("--orgs", type=int, default=500)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--password", default="benchmark-password-1")
    p.add_argument("--force", action="store_true",
                   help="replace the database if it exists")
    a = p.parse_args()
    if not 1 <= a.orgs <= a.threads <= a.messages:
        p.error("need 1 <= --orgs <= --threads <= --messages")
    if a.messages > 20 * 1000 * 1000:
        p.error("--messages: at most 20,000,000")
    return a


def step(what, t0):
    print("%-44s %7.1f s" % (what, time.monotonic() - t0), flush=True)


def migrate(a):
    """The binary makes the schema and loads the ODS organisations."""
    for ext in ("", "-wal", "-shm"):
        if os.path.exists(a.db + ext):
            if not a.force:
                sys.exit("web_seed: %s exists (--force replaces it)" % a.db)
            os.unlink(a.db + ext)
    p = subprocess.run([a.heard, "--db", a.db, "orgs", "import"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("web_seed: heard orgs import failed: %s" % p.stderr.strip())


def pick_orgs(con, rnd, n):
    """Every open trust first, then open GP practices, n in all."""
    trusts = con.execute("SELECT id, code, name, icb_code FROM organisations"
                         " WHERE type = 'trust' AND open = 1"
                         " ORDER BY code").fetchall()
    gps = con.execute("SELECT id, code, name, icb_code FROM organisations"
                      " WHERE type = 'gp-practice' AND open = 1"
                      " ORDER BY code").fetchall()
    chosen = trusts[:n]
    if len(chosen) < n:
        chosen += rnd.sample(gps, min(n - len(chosen), len(gps)))
    if len(chosen) < n:
        sys.exit("web_seed: only %d open organisations" % len(chosen))
    return chosen


def scrypt_hash(password):
    """heard's format: $scrypt$ln=15,r=8,p=1$<salt>$<key>, unpadded."""
    salt = os.urandom(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=1 << 15, r=8, p=1,
                         maxmem=64 << 20, dklen=32)

    def b64(b):
        return base64.b64encode(b).decode().rstrip("=")
    return "$scrypt$ln=15,r=8,p=1$%s$%s" % (b64(salt), b64(key))


def add_users(con, orgs, a):
    """An admin, a lead per organisation, a reviewer per ICB seen."""
    h = scrypt_hash(a.password)
    con.execute("INSERT INTO users (email, name, role, password_hash,"
                " created_at) VALUES ('admin@bench.example', 'Bench Admin',"
                " 'admin', ?, ?)", (h, NOW - SPAN))
    leads = {}
    for oid, code, name, icb in orgs:
        cur = con.execute(
            "INSERT INTO users (email, name, role, password_hash,"
            " created_at) VALUES (?, ?, 'lead', ?, ?)",
            ("lead.%s@bench.example" % code.lower(),
             "Lead of %s" % name.title(), h, NOW - SPAN))
        leads[oid] = cur.lastrowid
        con.execute("INSERT INTO memberships (user_id, org_id, notify)"
                    " VALUES (?, ?, 'digest')", (cur.lastrowid, oid))
    icbs = sorted({icb for (_, _, _, icb) in orgs if icb})
    made = 0
    for icb in icbs:
        row = con.execute("SELECT id FROM organisations WHERE code = ?",
                          (icb,)).fetchone()
        if row is None:		# an ICB newer than the ONS names list
            continue
        made += 1
        cur = con.execute(
            "INSERT INTO users (email, name, role, password_hash,"
            " created_at) VALUES (?, ?, 'reviewer', ?, ?)",
            ("reviewer.%s@bench.example" % icb.lower(),
             "Reviewer for %s" % icb, h, NOW - SPAN))
        con.execute("INSERT INTO memberships (user_id, org_id, notify)"
                    " VALUES (?, ?, 'none')", (cur.lastrowid, row[0]))
    return leads, made


def add_sources(con, orgs):
    """One paused source per organisation and connector."""
    ids = {}
    for oid, code, _, _ in orgs:
        for conn, _ in CONNECTORS:
            cur = con.execute(
                "INSERT INTO sources (org_id, connector, settings, paused,"
                " created_at, backfill_done_at) VALUES (?, ?, ?, 1, ?, ?)",
                (oid, conn, '{"org":"%s"}' % code, NOW - SPAN, NOW - SPAN))
            ids[(oid, conn)] = cur.lastrowid
    return ids


def split(rnd, total, parts, skew):
    """total items over parts, each at least 1, Zipf-like by rank."""
    weights = [1.0 / (i + 1) ** skew for i in range(parts)]
    rnd.shuffle(weights)
    counts = [1] * parts
    for i in rnd.choices(range(parts), weights=weights, k=total - parts):
        counts[i] += 1
    return counts


def reference(i):
    """Unique per i: an odd multiplier is a bijection modulo 2^30."""
    v = (i * 0x2F0B3A47) & ((1 << 30) - 1)
    return "H-" + "".join(CROCKFORD[(v >> s) & 31]
                          for s in (25, 20, 15, 10, 5, 0))


class Text:
    """Patient posts and replies of realistic length, from sentences."""

    def __init__(self, rnd):
        self.rnd = rnd

    def fill(self, s):
        r = self.rnd
        return s.format(dept=r.choice(DEPTS), who=r.choice(WHO),
                        day=r.choice(DAYS), name=r.choice(NAMES))

    def post(self):
        r = self.rnd
        n = min(int(r.lognormvariate(1.4, 0.6)), 30)
        parts = [self.fill(r.choice(OPENINGS))]
        parts += [self.fill(s) for s in r.choices(SENTENCES, k=n)]
        parts.append(r.choice(CLOSINGS))
        title = self.fill(r.choice(SENTENCES))[:80].rstrip(" .,")
        return title, " ".join(parts)

    def reply(self):
        r = self.rnd
        return " ".join(self.fill(s) for s in
                        r.sample(REPLIES, r.randint(2, len(REPLIES))))


def weighted(rnd, table):
    return rnd.choices([v for v, _ in table], [w for _, w in table])[0]


def thread_rows(rnd, text, tid, org, nmsg, conn, source, lead, mid):
    """The thread's row and its messages' rows; mid is the first id."""
    oid, code = org[0], org[1]
    gaps = [rnd.randint(600, 3 * 86400) for _ in range(nmsg)]
    first = NOW - sum(gaps) - rnd.randint(0, SPAN)
    t = first
    msgs, first_out = [], None
    for k in range(nmsg):
        # The public speaks first; after that, about a third answers.
        out = k > 0 and conn != "rss" and rnd.random() < 0.35
        if out:
            body, title, author = text.reply(), None, org[2].title()
            first_out = first_out or t
        else:
            title, body = text.post()
            title = title if k == 0 else None
            author = rnd.choice(NAMES)
        ext = "%d-%d" % (tid, k)
        msgs.append((mid + k, tid, oid, source, conn, ext,
                     "out" if out else "in",
                     None if k == 0 else "%d-%d" % (tid, k - 1), author,
                     title, body,
                     "https://feedback.example/%s/%s" % (code, ext),
                     rnd.randint(1, 5) if k == 0 and conn != "rss"
                     else None, t, t, t,
                     hashlib.sha256(body.encode()).digest()))
        t += gaps[k]
    last = msgs[-1][13]
    status = weighted(rnd, STATUSES)
    subject = msgs[0][9] or msgs[0][10][:80]
    thread = (tid, oid, source, conn, "t%d" % tid, reference(tid), subject,
              status, lead if rnd.random() < 0.3 else None, first, last,
              first_out, nmsg, first, last, weighted(rnd, SEVERITIES),
              "off-topic" if status == "hidden" else None)
    return thread, msgs


THREAD_SQL = (
    "INSERT INTO threads (id, org_id, source_id, connector, thread_key,"
    " reference, subject, status, assignee_id, first_at, last_at,"
    " first_response_at, message_count, created_at, updated_at, severity,"
    " hidden_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " ?)")
MESSAGE_SQL = (
    "INSERT INTO messages (id, thread_id, org_id, source_id, connector,"
    " external_id, direction, parent_external_id, author_name, title, body,"
    " url, rating, created_at, updated_at, first_seen_at, content_hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def fill(con, rnd, a, orgs, sources, leads):
    text = Text(rnd)
    per_org = split(rnd, a.threads, len(orgs), 0.9)
    per_thread = split(rnd, a.messages, a.threads, 0.35)
    rnd.shuffle(per_thread)
    tid, mid, batch_t, batch_m, extra = 0, 1, [], [], []
    for org, nthreads in zip(orgs, per_org):
        for _ in range(nthreads):
            tid += 1
            conn = weighted(rnd, CONNECTORS)
            th, ms = thread_rows(rnd, text, tid, org, per_thread[tid - 1],
                                 conn, sources[(org[0], conn)],
                                 leads[org[0]], mid)
            mid += len(ms)
            batch_t.append(th)
            batch_m.extend(ms)
            if rnd.random() < 0.4:
                extra.append(("read", tid, leads[org[0]], th[10]))
            if rnd.random() < 0.15:
                extra.append(("tag", tid, rnd.choice(TAGS)))
        if len(batch_m) > 50000:
            flush(con, batch_t, batch_m)
    flush(con, batch_t, batch_m)
    con.executemany("INSERT INTO reads (thread_id, user_id, read_at)"
                    " VALUES (?, ?, ?)",
                    [e[1:] for e in extra if e[0] == "read"])
    con.executemany("INSERT OR IGNORE INTO thread_tags (thread_id, tag)"
                    " VALUES (?, ?)", [e[1:] for e in extra
                                       if e[0] == "tag"])
    return tid, mid - 1


def flush(con, batch_t, batch_m):
    con.executemany(THREAD_SQL, batch_t)
    con.executemany(MESSAGE_SQL, batch_m)
    batch_t.clear()
    batch_m.clear()


def main():
    a = parse_args()
    rnd = random.Random(a.seed)
    t_all = time.monotonic()
    t0 = time.monotonic()
    migrate(a)
    step("schema and ODS organisations (heard)", t0)
    con = sqlite3.connect(a.db, isolation_level=None)
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -262144")	# 256 MiB
    trigger, = con.execute("SELECT sql FROM sqlite_master WHERE type ="
                           " 'trigger' AND name = 'messages_ai'").fetchone()
    t0 = time.monotonic()
    con.execute("BEGIN IMMEDIATE")
    orgs = pick_orgs(con, rnd, a.orgs)
    leads, nrev = add_users(con, orgs, a)
    sources = add_sources(con, orgs)
    step("accounts (hash once) and sources", t0)
    t0 = time.monotonic()
    con.execute("DROP TRIGGER messages_ai")
    nthreads, nmsgs = fill(con, rnd, a, orgs, sources, leads)
    step("threads and messages", t0)
    t0 = time.monotonic()
    con.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    con.execute(trigger)
    con.execute("COMMIT")
    step("full-text index rebuilt, trigger restored", t0)
    t0 = time.monotonic()
    bad = con.execute("PRAGMA foreign_key_check").fetchall()
    if bad:
        sys.exit("web_seed: foreign key violations: %r" % bad[:5])
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    step("checked and checkpointed", t0)
    size = os.path.getsize(a.db)
    print("%d organisations, %d threads, %d messages, %d leads, %d "
          "reviewers; %.0f MiB" % (len(orgs), nthreads, nmsgs, len(leads),
                                   nrev, size / 1048576))
    con = sqlite3.connect(a.db)
    for what, order in (("largest", "DESC"), ("median", "")):
        rows = con.execute(
            "SELECT o.code, count(*) n FROM threads t JOIN organisations o"
            " ON o.id = t.org_id GROUP BY o.id ORDER BY n %s, o.code" %
            order).fetchall()
        code, n = rows[0] if order else rows[len(rows) // 2]
        print("%s organisation: %s, %d threads" % (what, code, n))
    con.close()
    print("log in as admin@bench.example (or lead.<code>@bench.example) "
          "with password %r" % a.password)
    step("total", t_all)


if __name__ == "__main__":
    main()
