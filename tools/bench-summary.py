#!/usr/bin/env python3
"""The targets table and the cost per 1,000 emails of docs/BENCHMARKS.md, from the outputs of
one run of tools/benchmarks.sh (the directory holding mail.out, ingest.out, handoff.out,
soak.out, coldstart.out, firstrun.secs, sizes.tsv). Prints Markdown. A figure the run did not
produce is shown as "n/a" and its target as not shown, never guessed.

Usage: python3 tools/bench-summary.py OUTPUT_DIR
"""

import re
import sys
from pathlib import Path

# The figures of the report before issue 14 (docs/BENCHMARKS.md of 2026-12-01, commit 559f5b6,
# with a cold known contact and the first-run time from that round's notes).
BEFORE = {
    "cold_known": "7",
    "cold_new": "8",
    "warm_known": "2",
    "ingest_new": "7 (+1 raw GET) = 8; 14 after issue 11",
    "ingest_reply": "8 (+1) = 9; 15 after issue 11",
    "ingest_redelivery": "7 (+1) = 8; 4 after issue 11",
    "soak_s3": "8.20",
    "rss30": "138.1 MB",
    "bin_ingest": "13,968,856 B",
    "bin_handoff": "14,597,560 B",
    "init": "ingest 9.8 ms, handoff 14.9 ms",
    "first_run": "about 6 min",
    "ratio": "not measured",
}

# List prices, US East (N. Virginia), on-demand, without free tiers (aws.amazon.com pricing
# pages: Lambda, S3, SQS, EventBridge, Secrets Manager).
PRICES = {
    "lambda_gb_s_arm": 0.0000133334,  # USD per GB-second, Arm, first tier
    "lambda_request": 0.20 / 1e6,  # USD per invocation
    "s3_put": 0.005 / 1000,  # PUT, COPY, POST, LIST
    "s3_get": 0.0004 / 1000,  # GET and others
    "sqs_request": 0.40 / 1e6,  # standard queue, per 64 KB request
    "eventbridge_event": 1.00 / 1e6,  # custom events put
    "secrets_call": 0.05 / 10000,  # API calls
    "secrets_month": 0.40,  # per secret per month
}
INGEST_MB = 1024  # template.yaml MemorySize
HANDOFF_MB = 512
DATAVERSE_BUDGET = 6000  # requests per user per 5 minutes (service protection)


def read(d, name):
    p = d / name
    return p.read_text(errors="replace") if p.exists() else ""


def num(pattern, text, group=1, cast=float):
    m = re.search(pattern, text, re.M)
    return cast(m.group(group)) if m else None


def fmt(v, unit="", digits=1):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{digits}f}{unit}"
    return f"{v:,}{unit}"


def verdict(value, limit, lower_is_better=True):
    if value is None:
        return "not shown"
    ok = value <= limit if lower_is_better else value >= limit
    return "met" if ok else f"**missed** by {abs(value - limit):,.2f}".rstrip("0").rstrip(".")


def main():
    d = Path(sys.argv[1])
    ingest = read(d, "ingest.out")
    handoff = read(d, "handoff.out")
    soak = read(d, "soak.out")
    cold = read(d, "coldstart.out")
    mail = read(d, "mail.out")
    sizes = dict(
        line.split("\t", 1)
        for line in read(d, "sizes.tsv").splitlines()
        if "\t" in line
    )
    first_run = read(d, "firstrun.secs").strip()

    rows = {}
    pat = re.compile(
        r"^(10 KB|1 MB|30 MB) (new thread|reply in thread|redelivery)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+<= \d+\s+([\d.]+)",
        re.M,
    )
    for m in pat.finditer(ingest):
        rows[(m.group(1), m.group(2))] = {
            "get": int(m.group(3)),
            "put": int(m.group(4)),
            "attach": int(m.group(5)),
            "filed": int(m.group(6)),
            "ms": float(m.group(7)),
        }

    def filed(case):
        vals = [r["filed"] for (size, c), r in rows.items() if c == case]
        return max(vals) if vals else None

    def hand(label):
        return num(rf"^{re.escape(label)}\s+(\d+)\s+([\d.]+)", handoff, 1, int)

    def hand_ms(label):
        return num(rf"^{re.escape(label)}\s+(\d+)\s+([\d.]+)", handoff, 2)

    cold_known, cold_new, warm_known = (
        hand("cold start, known contact"),
        hand("cold start, new contact"),
        hand("warm, known contact"),
    )
    soak_per_msg = num(r"([\d.]+) per message \(GET", soak)
    soak_get = num(r"\(GET (\d+)", soak, cast=int)
    soak_put = num(r"PUT (\d+)", soak, cast=int)
    soak_msgs = num(r"plan: (\d+) messages in", soak, cast=int)
    soak_threads = num(r"messages in (\d+) threads", soak, cast=int)
    soak_handoff_s3 = num(r"S3 ([\d.]+) requests per handoff", soak)
    soak_dyn = num(r"Dynamics: ([\d.]+) requests per handoff", soak)
    # The fresh-process table: "30 MB new thread   <peak>   <target>".
    rss30 = max(
        (
            float(m.group(1))
            for m in re.finditer(r"^30 MB (?:new thread|reply in thread)\s+([\d.]+)\s+\d+\s*$", ingest, re.M)
        ),
        default=None,
    )
    init_ingest = num(r"^ingest\s+median\s+([\d.]+) ms", cold)
    init_handoff = num(r"^handoff\s+median\s+([\d.]+) ms", cold)
    # The "before" binaries started in the same run (COLDSTART_BEFORE), when there are some.
    cold_before = read(d, "coldstart_before.out")
    before_ingest = num(r"^ingest\s+median\s+([\d.]+) ms", cold_before)
    before_handoff = num(r"^handoff\s+median\s+([\d.]+) ms", cold_before)
    ratio = num(r"^ratio to bare mail-parser.*?small replies ([\d.]+)x", mail)
    ratio_big = num(r"^ratio to bare mail-parser.*?10 MB message ([\d.]+)x", mail)
    b_ingest = int(sizes["ingest"]) if "ingest" in sizes else None
    b_handoff = int(sizes["handoff"]) if "handoff" in sizes else None
    first = int(first_run) if first_run.isdigit() else None

    out = []
    w = out.append
    w("| target | before | now | |")
    w("|---|---|---|---|")
    w(f"| cold handoff, known contact: token + 2 = 3 requests | {BEFORE['cold_known']} | {fmt(cold_known)} | {verdict(cold_known, 3)} |")
    w(f"| cold handoff, new contact: token + 3 = 4 | {BEFORE['cold_new']} | {fmt(cold_new)} | {verdict(cold_new, 4)} |")
    w(f"| warm handoff, known contact: 2 | {BEFORE['warm_known']} | {fmt(warm_known)} | {verdict(warm_known, 2)} |")
    w(f"| ingest, new thread: ≤ 5 S3 requests incl. the raw read | {BEFORE['ingest_new']} | {fmt(filed('new thread'))} | {verdict(filed('new thread'), 5)} |")
    w(f"| ingest, reply to a known thread: ≤ 5 | {BEFORE['ingest_reply']} | {fmt(filed('reply in thread'))} | {verdict(filed('reply in thread'), 5)} |")
    w(f"| ingest, redelivery: ≤ 3 | {BEFORE['ingest_redelivery']} | {fmt(filed('redelivery'))} | {verdict(filed('redelivery'), 3)} |")
    w(f"| soak: S3 requests per message ≤ 6 | {BEFORE['soak_s3']} | {fmt(soak_per_msg, digits=2)} | {verdict(soak_per_msg, 6)} |")
    w(f"| peak RSS ingesting 30 MB ≤ 100 MB | {BEFORE['rss30']} | {fmt(rss30, ' MB')} | {verdict(rss30, 100)} |")
    w(f"| ingest Lambda binary (arm64) ≤ 10 MB | {BEFORE['bin_ingest']} | {fmt(b_ingest, ' B')} | {verdict(b_ingest, 10_000_000)} |")
    w(f"| handoff Lambda binary (arm64) ≤ 10 MB | {BEFORE['bin_handoff']} | {fmt(b_handoff, ' B')} | {verdict(b_handoff, 10_000_000)} |")
    if before_ingest is not None and before_handoff is not None:
        # No worse: each median within 5% (the run-to-run spread here) of the before binary's,
        # both started in this run against the same moto.
        worse = [
            f"{name} by {now - then:.1f} ms"
            for name, now, then in [("ingest", init_ingest, before_ingest), ("handoff", init_handoff, before_handoff)]
            if now is None or now > then * 1.05
        ]
        w(f"| init time no worse (both builds started in this run) | ingest {fmt(before_ingest, ' ms')}, handoff {fmt(before_handoff, ' ms')} | ingest {fmt(init_ingest, ' ms')}, handoff {fmt(init_handoff, ' ms')} | {'met' if not worse else '**missed**: ' + ', '.join(worse)} |")
    else:
        w(f"| init time no worse | {BEFORE['init']} | ingest {fmt(init_ingest, ' ms')}, handoff {fmt(init_handoff, ' ms')} | see the cold-start section |")
    w(f"| first `cargo run --release -p mailcase -- demo` ≤ 180 s | {BEFORE['first_run']} | {fmt(first, ' s')} | {verdict(first, 180)} |")
    w(f"| parse + strip + classify ≥ 0.5× bare parsing, small replies | {BEFORE['ratio']} | {fmt(ratio, '×', 2)} | {verdict(ratio, 0.5, lower_is_better=False)} |")
    w(f"| the same, a 10 MB message with attachments | {BEFORE['ratio']} | {fmt(ratio_big, '×', 2)} | {verdict(ratio_big, 0.5, lower_is_better=False)} |")
    w("")

    # Cost per 1,000 emails.
    per_thread = (soak_msgs / soak_threads) if soak_msgs and soak_threads else 5.0
    emails = 1000
    cases = emails / per_thread
    reply = rows.get(("10 KB", "reply in thread"))
    redelivery = rows.get(("10 KB", "redelivery"))
    ingest_ms = (reply["ms"] if reply else 100.0) + (init_ingest or 0.0)
    handoff_ms = (hand_ms("cold start, new contact") or 200.0) + (init_handoff or 0.0)
    light_ms = (redelivery["ms"] if redelivery else 20.0) + (init_handoff or 0.0)
    lam_ingest = emails * ingest_ms / 1000 * INGEST_MB / 1024 * PRICES["lambda_gb_s_arm"]
    # One notice per email reaches the handoff function; one per thread makes the case, the
    # others find it made or not yet due (a session read).
    lam_handoff = (
        cases * handoff_ms + (emails - cases) * light_ms
    ) / 1000 * HANDOFF_MB / 1024 * PRICES["lambda_gb_s_arm"]
    lam_req = 2 * emails * PRICES["lambda_request"]
    get_per = (soak_get / soak_msgs) if soak_get and soak_msgs else None
    put_per = (soak_put / soak_msgs) if soak_put and soak_msgs else None
    s3 = None
    if get_per is not None and put_per is not None:
        s3 = emails * (
            (get_per + 1) * PRICES["s3_get"]  # + the raw read
            + (put_per + 1) * PRICES["s3_put"]  # + SES writing the raw mail
        ) + cases * (soak_handoff_s3 or 0) * PRICES["s3_put"]  # priced as PUTs: an upper bound
    sqs = emails * 3 * PRICES["sqs_request"]  # send, receive, delete per notice
    events = emails + 2 * cases  # Message Filed, Session Created + Case Created per thread
    eb = events * PRICES["eventbridge_event"]
    secrets = emails * PRICES["secrets_call"]  # every handoff invocation cold: the worst case
    total = sum(x for x in [lam_ingest, lam_handoff, lam_req, s3, sqs, eb, secrets] if x is not None)
    dyn_cold = cold_new
    w(f"Model: 1,000 emails in {cases:,.0f} threads ({per_thread:.1f} emails per thread, the soak's mix), "
      "each thread handed off once by a `quiet` policy; every invocation cold (a support mailbox's "
      "usual case). Durations are this machine's, on 127.0.0.1 (moto; Dataverse at 20 ms RTT), plus "
      f"the measured init: ingest {ingest_ms:.0f} ms per email at {INGEST_MB} MB, handoff "
      f"{handoff_ms:.0f} ms per case and {light_ms:.0f} ms per notice with nothing to do at "
      f"{HANDOFF_MB} MB (template.yaml). Prices: AWS list prices, US East (N. Virginia), on-demand, "
      "free tiers ignored: Lambda Arm $0.0000133334 per GB-s and $0.20 per million requests; S3 "
      "Standard $0.005 per 1,000 PUT and $0.0004 per 1,000 GET; SQS standard $0.40 per million "
      "requests; EventBridge $1.00 per million custom events; Secrets Manager $0.05 per 10,000 "
      "calls (+ $0.40 per secret per month, not per email).")
    w("")
    w("| service | what is counted per 1,000 emails | USD |")
    w("|---|---|---|")
    w(f"| Lambda ingest | 1,000 invocations × {ingest_ms:.0f} ms × {INGEST_MB} MB | {lam_ingest:.4f} |")
    w(f"| Lambda handoff | {cases:,.0f} × {handoff_ms:.0f} ms + {emails - cases:,.0f} × {light_ms:.0f} ms, {HANDOFF_MB} MB | {lam_handoff:.4f} |")
    w(f"| Lambda requests | 2,000 invocations | {lam_req:.4f} |")
    s3_what = (
        f"{get_per + 1:.2f} GET + {put_per + 1:.2f} PUT per email (soak, incl. the raw read and SES's write) + {soak_handoff_s3 or 0:.2f} per case"
        if get_per is not None and put_per is not None
        else "n/a (no soak figures)"
    )
    w(f"| S3 | {s3_what} | {fmt(s3, digits=4)} |")
    w(f"| SQS | 3,000 requests (send, receive, delete per notice) | {sqs:.4f} |")
    w(f"| EventBridge | {events:,.0f} events | {eb:.4f} |")
    w(f"| Secrets Manager | 1,000 GetSecretValue (every handoff invocation cold) | {secrets:.4f} |")
    w(f"| **total** | | **{total:.4f}** |")
    w("")
    if dyn_cold is not None:
        spent = cases * dyn_cold
        w(f"Dataverse: {cases:,.0f} cases × {dyn_cold} requests (cold, new contact, token included) = "
          f"{spent:,.0f} requests per 1,000 emails; under faults the soak spent "
          f"{fmt(soak_dyn, digits=2)} per handoff (both invocations and retries). The service-protection "
          f"budget is {DATAVERSE_BUDGET:,} requests per user per 5 minutes: 1,000 emails arriving "
          f"within 5 minutes would spend {spent / DATAVERSE_BUDGET:.0%} of it.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
