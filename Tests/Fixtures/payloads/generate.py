#!/usr/bin/env python3
"""Writes the test payloads beside this script: vendor-shaped webhook bodies for the
sources the tests use (github, stripe, slack and a generic CRM), written for Tracebox.

They are not copies of any vendor's payloads. They follow the published shape of each
vendor's webhooks closely enough that per-source zstd dictionaries train on them, and
they vary (ids, names, amounts, nesting, lengths, key order, unicode, whitespace) so
compression, signature and pointer tests meet more than one shape.

Deterministic: the same script writes the same bytes (seeded). Run it again only to
change the set; the tests read the committed files and index.tsv.

    python3 Tests/Fixtures/payloads/generate.py
"""
import hashlib
import json
import os
import random
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261130)

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
         "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()
NAMES = ["Ada Lovelace", "Grace Hopper", "Linus Torvalds", "Margaret Hamilton", "Ken Thompson",
         "Barbara Liskov", "Dennis Ritchie", "Frances Allen", "Zoë Müller", "Søren Kierkegaard",
         "李小龙", "José Ñúñez"]


def words(n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def hexid(n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def alnum(n):
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def ts(base=1764460800):
    return base + rng.randint(0, 86400 * 30)


def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def github_user():
    login = rng.choice(WORDS) + str(rng.randint(1, 999))
    uid = rng.randint(1000, 9_999_999)
    return {"login": login, "id": uid, "node_id": "MDQ6VXNlcj" + alnum(6),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "url": f"https://api.github.com/users/{login}", "html_url": f"https://github.com/{login}",
            "type": "User", "site_admin": False}


def github_repo(owner):
    name = rng.choice(WORDS) + "-" + rng.choice(WORDS)
    full = f"{owner['login']}/{name}"
    return {"id": rng.randint(10_000, 900_000_000), "node_id": "R_kgDO" + alnum(6), "name": name, "full_name": full,
            "private": rng.random() < 0.3, "owner": owner, "html_url": f"https://github.com/{full}",
            "description": words(rng.randint(0, 12)) or None, "fork": False,
            "url": f"https://api.github.com/repos/{full}", "created_at": iso(ts() - 86400 * 400),
            "updated_at": iso(ts()), "pushed_at": iso(ts()), "default_branch": "main",
            "stargazers_count": rng.randint(0, 5000), "language": rng.choice(["Swift", "Go", "Rust", "Python", None]),
            "topics": [rng.choice(WORDS) for _ in range(rng.randint(0, 4))], "visibility": "public"}


def github(kind):
    sender = github_user()
    repo = github_repo(github_user())
    if kind == "push":
        commits = [{"id": hexid(40), "tree_id": hexid(40), "distinct": True, "message": words(rng.randint(3, 20)),
                    "timestamp": iso(ts()), "url": f"{repo['html_url']}/commit/{hexid(40)}",
                    "author": {"name": rng.choice(NAMES), "email": f"{rng.choice(WORDS)}@example.com"},
                    "added": [f"Sources/{rng.choice(WORDS)}.swift" for _ in range(rng.randint(0, 3))],
                    "removed": [], "modified": [f"README.md"] * rng.randint(0, 1)}
                   for _ in range(rng.randint(1, 6))]
        return "push", {"ref": "refs/heads/" + rng.choice(["main", "develop", "feature/" + rng.choice(WORDS)]),
                        "before": hexid(40), "after": hexid(40), "repository": repo, "pusher": {"name": sender["login"]},
                        "sender": sender, "created": False, "deleted": False, "forced": rng.random() < 0.1,
                        "commits": commits, "head_commit": commits[-1]}
    if kind == "pull_request":
        action = rng.choice(["opened", "closed", "synchronize", "reopened", "edited"])
        number = rng.randint(1, 4000)
        return "pull_request." + action, {"action": action, "number": number, "pull_request": {
            "url": f"{repo['url']}/pulls/{number}", "id": rng.randint(1, 2_000_000_000), "number": number,
            "state": "closed" if action == "closed" else "open", "title": words(rng.randint(2, 10)),
            "user": sender, "body": words(rng.randint(0, 60)) or None, "created_at": iso(ts()), "updated_at": iso(ts()),
            "merged": action == "closed" and rng.random() < 0.7, "draft": rng.random() < 0.2,
            "head": {"ref": "feature/" + rng.choice(WORDS), "sha": hexid(40)}, "base": {"ref": "main", "sha": hexid(40)},
            "labels": [{"name": rng.choice(["bug", "enhancement", "docs"]), "color": hexid(6)} for _ in range(rng.randint(0, 3))],
            "additions": rng.randint(0, 900), "deletions": rng.randint(0, 400), "changed_files": rng.randint(1, 40)},
            "repository": repo, "sender": sender}
    if kind == "issues":
        action = rng.choice(["opened", "closed", "labeled", "assigned"])
        number = rng.randint(1, 9000)
        return "issues." + action, {"action": action, "issue": {
            "id": rng.randint(1, 2_000_000_000), "number": number, "title": words(rng.randint(2, 12)),
            "user": sender, "state": "closed" if action == "closed" else "open", "comments": rng.randint(0, 30),
            "body": words(rng.randint(0, 80)), "created_at": iso(ts()), "html_url": f"{repo['html_url']}/issues/{number}"},
            "repository": repo, "sender": sender}
    if kind == "issue_comment":
        return "issue_comment.created", {"action": "created", "issue": {"number": rng.randint(1, 9000), "title": words(6)},
                                          "comment": {"id": rng.randint(1, 2_000_000_000), "body": words(rng.randint(1, 50)),
                                                      "user": sender, "created_at": iso(ts())},
                                          "repository": repo, "sender": sender}
    if kind == "workflow_run":
        action = rng.choice(["requested", "completed", "in_progress"])
        return "workflow_run." + action, {"action": action, "workflow_run": {
            "id": rng.randint(1, 9_999_999_999), "name": rng.choice(["CI", "Release", "Nightly"]),
            "head_branch": "main", "head_sha": hexid(40), "run_number": rng.randint(1, 9000),
            "status": "completed" if action == "completed" else action,
            "conclusion": rng.choice(["success", "failure", "cancelled"]) if action == "completed" else None,
            "created_at": iso(ts())}, "repository": repo, "sender": sender}
    if kind == "star":
        return "star.created", {"action": "created", "starred_at": iso(ts()), "repository": repo, "sender": sender}
    raise ValueError(kind)


def stripe(kind):
    t = ts()
    customer = "cus_" + alnum(14)
    amount = rng.choice([500, 1999, 2500, 10000, 49900, rng.randint(50, 999999)])
    currency = rng.choice(["usd", "eur", "gbp", "jpy"])
    if kind.startswith("charge."):
        obj = {"id": "ch_" + alnum(24), "object": "charge", "amount": amount, "amount_captured": amount,
               "amount_refunded": amount if kind == "charge.refunded" else 0, "currency": currency, "customer": customer,
               "captured": True, "created": t, "description": words(rng.randint(0, 6)) or None,
               "paid": kind != "charge.failed", "status": "failed" if kind == "charge.failed" else "succeeded",
               "failure_code": "card_declined" if kind == "charge.failed" else None,
               "billing_details": {"email": f"{rng.choice(WORDS)}@example.com", "name": rng.choice(NAMES),
                                   "address": {"city": rng.choice(["Berlin", "Paris", "Austin", None]), "country": rng.choice(["DE", "FR", "US"])}},
               "payment_method_details": {"type": "card", "card": {"brand": rng.choice(["visa", "mastercard", "amex"]),
                                                                     "last4": str(rng.randint(1000, 9999)),
                                                                     "exp_month": rng.randint(1, 12), "exp_year": rng.randint(2027, 2033)}},
               "metadata": {rng.choice(WORDS): words(1) for _ in range(rng.randint(0, 3))}, "livemode": False}
    elif kind.startswith("invoice."):
        lines = [{"id": "il_" + alnum(24), "amount": rng.randint(100, 50000), "description": words(4),
                  "price": {"id": "price_" + alnum(24), "unit_amount": rng.randint(100, 9000), "recurring": {"interval": "month"}}}
                 for _ in range(rng.randint(1, 4))]
        obj = {"id": "in_" + alnum(24), "object": "invoice", "customer": customer, "amount_due": amount,
               "amount_paid": amount if kind == "invoice.paid" else 0, "currency": currency, "status": "paid" if kind == "invoice.paid" else "open",
               "subscription": "sub_" + alnum(24), "lines": {"object": "list", "data": lines, "has_more": False},
               "hosted_invoice_url": "https://invoice.stripe.com/i/acct_" + alnum(16), "created": t}
    elif kind.startswith("customer."):
        obj = {"id": customer, "object": "customer", "email": f"{rng.choice(WORDS)}.{rng.randint(1, 99)}@example.org",
               "name": rng.choice(NAMES), "created": t, "currency": currency, "delinquent": False,
               "invoice_settings": {"default_payment_method": "pm_" + alnum(24)}, "metadata": {}}
    else:  # checkout.session.completed
        obj = {"id": "cs_test_" + alnum(40), "object": "checkout.session", "amount_total": amount, "currency": currency,
               "customer": customer, "mode": rng.choice(["payment", "subscription"]), "payment_status": "paid",
               "status": "complete", "success_url": "https://example.com/thanks", "created": t}
    return kind, {"id": "evt_" + alnum(24), "object": "event", "api_version": "2024-06-20", "created": t,
                  "data": {"object": obj}, "livemode": False, "pending_webhooks": rng.randint(1, 3),
                  "request": {"id": "req_" + alnum(14), "idempotency_key": alnum(8) + "-" + alnum(4)}, "type": kind}


def slack(kind):
    team = "T" + alnum(8).upper()
    user = "U" + alnum(8).upper()
    channel = "C" + alnum(8).upper()
    event_ts = f"{ts()}.{rng.randint(100000, 999999)}"
    if kind == "url_verification":
        return kind, {"token": alnum(24), "challenge": alnum(48), "type": "url_verification"}
    if kind == "message":
        blocks = [{"type": "rich_text", "block_id": alnum(5), "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": words(rng.randint(1, 25))}]}]}]
        event = {"type": "message", "channel": channel, "user": user, "text": words(rng.randint(1, 25)), "ts": event_ts,
                 "event_ts": event_ts, "channel_type": rng.choice(["channel", "im", "group"]), "blocks": blocks}
    elif kind == "app_mention":
        event = {"type": "app_mention", "user": user, "text": f"<@U{alnum(8).upper()}> " + words(rng.randint(1, 12)),
                 "ts": event_ts, "channel": channel, "event_ts": event_ts}
    elif kind == "reaction_added":
        event = {"type": "reaction_added", "user": user, "reaction": rng.choice(["thumbsup", "tada", "eyes", "rocket"]),
                 "item": {"type": "message", "channel": channel, "ts": event_ts}, "item_user": "U" + alnum(8).upper(),
                 "event_ts": event_ts}
    else:  # member_joined_channel
        event = {"type": "member_joined_channel", "user": user, "channel": channel, "channel_type": "C",
                 "team": team, "event_ts": event_ts}
    return kind, {"token": alnum(24), "team_id": team, "api_app_id": "A" + alnum(8).upper(), "event": event,
                  "type": "event_callback", "event_id": "Ev" + alnum(9).upper(), "event_time": ts(),
                  "authorizations": [{"enterprise_id": None, "team_id": team, "user_id": "U" + alnum(8).upper(),
                                      "is_bot": True, "is_enterprise_install": False}],
                  "is_ext_shared_channel": False, "event_context": "4-" + alnum(60)}


def generic(kind):
    deal = rng.randint(1000, 99999)
    body = {"id": f"{kind.split('.')[0]}_{alnum(10)}", "type": kind, "occurred_at": iso(ts()),
            "data": {"dealId": deal, "email": f"{rng.choice(WORDS)}@example.com", "name": rng.choice(NAMES),
                     "amount": round(rng.uniform(10, 100000), 2), "currency": rng.choice(["USD", "EUR"]),
                     "stage": kind.split(".")[1], "owner": {"id": rng.randint(1, 500), "name": rng.choice(NAMES)},
                     "tags": [rng.choice(WORDS) for _ in range(rng.randint(0, 5))],
                     "notes": words(rng.randint(0, 40)) or None},
            "attempt": rng.randint(1, 3)}
    return kind, body


KINDS = {
    "github": ["push", "pull_request", "issues", "issue_comment", "workflow_run", "star"],
    "stripe": ["charge.succeeded", "charge.failed", "charge.refunded", "invoice.paid", "invoice.payment_failed",
               "customer.created", "customer.updated", "checkout.session.completed"],
    "slack": ["message", "app_mention", "reaction_added", "member_joined_channel", "url_verification"],
    "generic": ["deal.won", "deal.lost", "deal.created", "contact.created"],
}
COUNTS = {"github": 60, "stripe": 48, "slack": 36, "generic": 32}
MAKERS = {"github": github, "stripe": stripe, "slack": slack, "generic": generic}


def encode(body, n):
    # Vary the spelling as vendors do: compact, spaced, indented; some with a final newline.
    style = n % 4
    if style == 0:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    elif style == 1:
        text = json.dumps(body, indent=2, ensure_ascii=False)
    elif style == 2:
        text = json.dumps(body, ensure_ascii=False)
    else:
        text = json.dumps(body, indent=4, ensure_ascii=True) + "\n"
    return text.encode("utf-8")


def main():
    rows = []
    for source, count in COUNTS.items():
        shutil.rmtree(os.path.join(HERE, source), ignore_errors=True)
        numbers = {}
        for n in range(count):
            kind = KINDS[source][n % len(KINDS[source])]
            event_type, body = MAKERS[source](kind)
            numbers[event_type] = numbers.get(event_type, 0) + 1
            path = f"{source}/{event_type}/{numbers[event_type]}.json"
            data = encode(body, n)
            os.makedirs(os.path.join(HERE, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(HERE, path), "wb") as f:
                f.write(data)
            rows.append((path, source, event_type, len(data), hashlib.sha256(data).hexdigest()))
    with open(os.path.join(HERE, "index.tsv"), "w") as f:
        f.write("path\tsource_system\tevent_type\tbytes\tsha256\n")
        for row in rows:
            f.write("\t".join(str(c) for c in row) + "\n")
    print(f"{len(rows)} payloads, {sum(r[3] for r in rows)} bytes")


if __name__ == "__main__":
    main()
