#!/usr/bin/env python3
"""Writes the twitter golden cases (.http, .settings, .cursor) from the
genuine payloads beside this script; see README.md for each case.

Run from anywhere; then connector_golden -u and read every .expected.
"""

import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# The recorded answer's headers (tweepy cassette), in the order X sent
# them; a derived case uses these with its own status and remaining.
DATE = "Fri, 07 Oct 2022 22:43:18 UTC"
RESET = "1665183228"    # 630 s after DATE, as recorded

SETTINGS = {
    # The cassette read @Twitter's mentions (user 783214).
    "twitter": "user_id=783214\nusername=Twitter\n"
               "bearer_token=AAAA-test-bearer\n",
    # @XDevelopers / @TwitterDev, whose id the docs and sns-sdks use.
    "dev": "user_id=2244994945\nusername=XDevelopers\n"
           "bearer_token=AAAA-test-bearer\n",
    # The reconstructed page's organisation: user 2222222222.
    "trust": "user_id=2222222222\nusername=NHSTrustExample\n"
             "bearer_token=AAAA-test-bearer\n",
}


def read(name):
    with open(os.path.join(HERE, name), "rb") as f:
        return f.read()


def recorded_head():
    """The cassette's status line and headers, without its request line."""
    text = read("mentions-tweepy-cassette.response-headers.txt").decode()
    head = text.split("\n\n", 1)[1].rstrip("\n")
    return head.split("\n")


def head(status, reason, remaining="448", extra=()):
    lines = ["HTTP/1.1 %d %s" % (status, reason),
             "content-type: application/json; charset=utf-8",
             "date: " + DATE]
    if remaining is not None:
        lines += ["x-rate-limit-limit: 450",
                  "x-rate-limit-remaining: " + remaining,
                  "x-rate-limit-reset: " + RESET]
    lines += list(extra)
    return lines


def write(case, lines, body, settings="twitter", cursor=None):
    if isinstance(body, (dict, list)):
        body = json.dumps(body, ensure_ascii=False).encode()
    with open(os.path.join(HERE, case + ".http"), "wb") as f:
        f.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    with open(os.path.join(HERE, case + ".settings"), "w") as f:
        f.write(SETTINGS.get(settings, settings))
    path = os.path.join(HERE, case + ".cursor")
    if cursor is not None:
        with open(path, "w") as f:
            f.write(json.dumps(cursor, sort_keys=True) + "\n")
    elif os.path.exists(path):
        os.remove(path)


def page(data, **meta):
    return {"data": data, "meta": meta}


def main():
    cassette = read("mentions-tweepy-cassette.json").rstrip(b"\n")
    cj = json.loads(cassette)
    token = cj["meta"]["next_token"]

    # Genuine pages, as recorded or as documented.
    write("mentions_cassette", recorded_head(), cassette)
    write("mentions_cassette_since", recorded_head(), cassette,
          cursor={"since_id": "1578516000000000000"})
    write("mentions_author_expansion", head(200, "OK"),
          read("mentions-with-author-expansion-docs-example.json"), "dev")
    write("mentions_public_metrics", head(200, "OK"),
          read("mentions-with-public-metrics-sns-sdks.json"), "dev")
    write("conversation_thread", head(200, "OK"),
          read("conversation-thread-docs-example.json"), "trust")
    write("partial_errors", head(200, "OK"),
          read("partial-errors-docs-example.json"), "dev")

    # Shapes the docs give for one post, put on a mentions page.
    tw = json.loads(read("tweet-reply-with-referenced_tweets-sns-sdks.json"))
    write("reply_referenced_tweets", head(200, "OK"),
          page([tw], newest_id=tw["id"], oldest_id=tw["id"],
               result_count=1), "dev")
    posts = copy.deepcopy(tw)
    posts["referenced_posts"] = posts.pop("referenced_tweets")
    write("reply_referenced_posts", head(200, "OK"),
          page([posts], newest_id=tw["id"], oldest_id=tw["id"],
               result_count=1), "dev")
    one = json.loads(read("reply-tweet-fields-docs-example.json"))["data"]
    write("reply_tweet_fields", head(200, "OK"),
          page([one], newest_id=one["id"], oldest_id=one["id"],
               result_count=1), "trust")

    # The reconstruction without its label.
    rec = json.loads(read("mentions-expanded-reconstructed.json"))
    del rec["_reconstructed"]
    write("mentions_expanded", head(200, "OK"), rec, "trust")
    # Its last page: no next_token, and the text X escapes.
    last = copy.deepcopy(rec)
    del last["meta"]["next_token"]
    last["data"][1]["text"] = ("@NHSTrustExample waited 4 hours in A&amp;E, "
                               "&lt;3 to the nurses &amp;lt;not a tag&amp;gt;")
    write("mentions_expanded_last_page", head(200, "OK"), last, "trust",
          cursor={"since_id": "1234567000", "newest": "1234567999",
                  "next": token})

    # Paging: a middle page keeps since_id and the first page's newest.
    mid = copy.deepcopy(cj)
    mid["meta"]["next_token"] = "7140dibdnow9c7btw423i3sy3u5zupmkcpofxcsmxj48k"
    write("paging_middle_page", head(200, "OK"), mid,
          cursor={"since_id": "1578000000000000000",
                  "newest": "1578516399999999999", "next": token})
    # A token that repeats the one asked with ends the run.
    write("paging_same_token_ends_run", head(200, "OK"), cassette,
          cursor={"since_id": "1578000000000000000",
                  "newest": "1578516399999999999", "next": token})
    write("empty_page", head(200, "OK"), {"meta": {"result_count": 0}},
          cursor={"since_id": "1578516295611748353"})
    write("empty_page_ends_run", head(200, "OK"),
          {"meta": {"result_count": 0}},
          cursor={"since_id": "1578000000000000000",
                  "newest": "1578516399999999999", "next": token})
    # An empty page that still has a next_token goes on: since_id waits.
    write("empty_page_with_next_token_goes_on", head(200, "OK"),
          {"meta": {"result_count": 0, "next_token":
                    "7140dibdnow9c7btw423i3sy3u5zupmkcpofxcsmxj48m"}},
          cursor={"since_id": "1578000000000000000",
                  "newest": "1578516399999999999", "next": token})

    # Rate limits.
    write("remaining_zero_stops_run", head(200, "OK", remaining="0"),
          cassette)
    write("remaining_zero_no_date",
          [l for l in head(200, "OK", remaining="0")
           if not l.startswith("date")], cassette)
    write("rate_limited_429_v2", head(429, "Too Many Requests", "0"),
          read("rate-limit-429-v2-reconstructed.json"),
          cursor={"since_id": "1578516000000000000"})
    write("rate_limited_429_v1_retry_after",
          head(429, "Too Many Requests", None, ["retry-after: 120"]),
          read("rate-limit-429-body-docs-example.json"))
    write("rate_limited_429_v1_no_hint",
          head(429, "Too Many Requests", None),
          read("rate-limit-429-body-docs-example.json"))

    # Errors.
    write("error_401", head(401, "Unauthorized", None),
          {"title": "Unauthorized", "type": "about:blank", "status": 401,
           "detail": "Unauthorized"})
    write("error_403_client_forbidden", head(403, "Forbidden", None), read(
        "error-403-client-not-enrolled.json").rstrip(b"\n"))
    write("invalid_request_400", head(400, "Bad Request", None),
          read("error-invalid-request-docs-example.json"))
    write("stale_token_400_restarts", head(400, "Bad Request", None),
          read("error-invalid-request-docs-example.json"),
          cursor={"since_id": "1578000000000000000",
                  "newest": "1578516399999999999", "next": token})
    write("user_not_found_200", head(200, "OK"), {"errors": [{
        "value": "783214", "detail": "Could not find user with id: "
        "[783214].", "title": "Not Found Error", "resource_type": "user",
        "parameter": "id", "resource_id": "783214",
        "type": "https://api.x.com/2/problems/resource-not-found"}]})
    write("server_error_503", head(503, "Service Unavailable", None),
          b"<html><body>Over capacity</body></html>")
    write("malformed_json", head(200, "OK"), cassette[:200])
    # Found by the fuzzer: jansson quotes the raw bytes it stopped at.
    write("malformed_json_control", head(200, "OK"),
          b'{\n "tite\t\\\n}t"\n')
    write("data_not_array", head(200, "OK"),
          {"data": {"id": "1", "text": "x"}, "meta": {}})
    write("redirect_302", head(302, "Found", None,
                               ["location: https://x.com/"]), b"")

    # Settings refused, each naming the setting.
    body = head(200, "OK")
    write("config_missing_user_id", body, cassette,
          "bearer_token=AAAA-test-bearer\n")
    write("config_handle_as_user_id", body, cassette,
          "user_id=@Twitter\nbearer_token=AAAA-test-bearer\n")
    write("config_missing_bearer", body, cassette, "user_id=783214\n")
    write("config_partial_oauth", body, cassette,
          SETTINGS["twitter"] + "consumer_key=ck\nconsumer_secret=cs\n"
          "access_token=at\n")
    write("config_api_base_http", body, cassette,
          SETTINGS["twitter"] + "api_base=http://api.x.com\n")
    write("config_api_base_path", body, cassette,
          SETTINGS["twitter"] + "api_base=https://api.x.com/2\n")
    write("config_api_base_local", body, cassette,
          SETTINGS["twitter"] + "api_base=http://127.0.0.1:8080/\n")


if __name__ == "__main__":
    main()
