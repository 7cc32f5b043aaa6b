#!/usr/bin/env python3
"""Writes the facebook golden cases from the genuine payloads beside it.

Run it here after changing a case; then connector_golden -u and read
every rewritten .expected. See README.md for what each file is.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = "https://graph.facebook.com/v19.0"
TOKEN = "EAAB-page-token-not-real"
SECRET = "heard-test-app-secret"


def read(name):
    with open(os.path.join(HERE, name), "rb") as f:
        return f.read()


def write(name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def settings(case, page, extra=""):
    write(case + ".settings", "page_id=%s\npage_token=%s\n"
          "app_secret=%s\ngraph_base=%s\n%s" % (page, TOKEN, SECRET, BASE,
                                               extra))


def http(case, body, status="200 OK", headers=(), page="19292868552",
         cursor=None):
    head = "HTTP/1.1 %s\r\nContent-Type: application/json; " \
        "charset=UTF-8\r\n" % status
    for h in headers:
        head += h + "\r\n"
    write(case + ".http", head.encode() + b"\r\n" + body)
    settings(case, page)
    if cursor is not None:
        write(case + ".cursor", json.dumps(cursor, sort_keys=True) + "\n")


def page_of(*objs):
    """Genuine objects as one page of a comments or feed answer."""
    return json.dumps({"data": list(objs)}).encode()


def error(code, message, typ="OAuthException", sub=None):
    e = {"message": message, "type": typ, "code": code,
         "fbtrace_id": "A1m6KK6iBqvjzPeQd4DYbKM"}
    if sub is not None:
        e["error_subcode"] = sub
    return json.dumps({"error": e}).encode()


POST = "19292868552_10158407654328553"
MORE = {"more": [[POST, "before"]]}

# Genuine answers, byte for byte.
http("posts_p1", read("graph-posts-feed_fields_p1-sns-sdks.json"), page="4")
http("posts_p2_ends_run", read("graph-posts-feed_fields_p2-sns-sdks.json"),
     page="4", cursor={"since": 1600000000, "top": 1625428258,
                       "next": BASE + "/4/feed?until=1624385168"})
http("posts_p1_window_ends_run",
     read("graph-posts-feed_fields_p1-sns-sdks.json"), page="4",
     cursor={"since": 1626000000})
http("comments_p1", read("graph-comments-comments_p1-sns-sdks.json"),
     cursor=MORE)
http("comments_p2_ends_run", read("graph-comments-comments_p2-sns-sdks.json"),
     cursor={"more": [[POST, "after"]], "since": 1628000000})
http("comments_p1_more_after", read("graph-comments-comments_p1-sns-sdks.json"),
     cursor={"more": [[POST, "before"], ["19292868552_1", "x"]],
             "next": BASE + "/19292868552/feed?until=1"})
http("post_with_comments", read("graph-post-with-comments-restfb.json"),
     page="1234567890123")
http("post_with_comments_page",
     page_of(json.loads(read("graph-post-with-comments-restfb.json"))),
     page="1234567890123")
# Genuine single objects, inside the page a comments request answers.
http("comment_fields_in_page",
     page_of(json.loads(read("graph-comment-fields-sns-sdks.json"))),
     page="2121008874780932",
     cursor={"more": [["2121008874780932_2954961744718970", "a"]]})
http("comment_fields_by_page",
     page_of(json.loads(read("graph-comment-fields-sns-sdks.json"))),
     page="2711636948859886",
     cursor={"more": [["2121008874780932_2954961744718970", "a"]]})
http("comment_info_in_page",
     page_of(json.loads(read("graph-comments-comment_info-sns-sdks.json"))),
     cursor={"more": [["19292868552_10158371815748553", "a"]]})
http("reply_with_parent_in_page", page_of(json.loads(
    read("graph-comment-reply-with-parent-reconstructed.json"))),
    cursor=MORE)
# The genuine error envelope (#100: a permission the app lacks).
http("error_100_envelope", read("graph-error-sns-sdks.json"),
     status="400 Bad Request")
# Documented errors, in that envelope's shape with Meta's own texts.
http("error_190_expired", error(
    190, "Error validating access token: Session has expired on "
    "Wednesday, 14-Feb-18 18:00:00 PST. The current time is Thursday, "
    "15-Feb-18 13:46:35 PST.", sub=463), status="401 Unauthorized")
http("error_190_password_changed", error(
    190, "Error validating access token: The session has been invalidated "
    "because the user changed their password or Facebook has changed the "
    "session for security reasons.", sub=460), status="400 Bad Request")
http("error_190_quotes_token", error(
    190, "Invalid OAuth access token - Cannot parse access token " + TOKEN),
    status="400 Bad Request")
http("error_102_session", error(102, "Session key invalid or no longer "
                                "valid", typ="OAuthException"),
     status="400 Bad Request")
http("error_10_permission", error(10, "(#10) This endpoint requires the "
                                  "'pages_read_engagement' permission"),
     status="403 Forbidden")
http("error_200_permission", error(200, "(#200) Permissions error"),
     status="403 Forbidden")
http("error_4_app_rate", error(4, "(#4) Application request limit reached"),
     status="400 Bad Request",
     headers=['X-App-Usage: {"call_count":100,"total_cputime":12,'
              '"total_time":40}'])
http("error_17_user_rate", error(17, "(#17) User request limit reached"),
     status="400 Bad Request")
http("error_32_page_rate", error(
    32, "(#32) Page request limit reached"), status="400 Bad Request",
    headers=['X-Page-Usage: {"call_count":100,"total_cputime":20,'
             '"total_time":30,"estimated_time_to_regain_access":12}'])
http("error_613_rate", error(613, "Calls to this api have exceeded the "
                             "rate limit."), status="400 Bad Request",
     headers=["Retry-After: 120"])
http("error_80001_buc_rate", error(
    80001, "There have been too many calls to this Page account. Wait a "
    "bit and try again."), status="400 Bad Request",
    headers=['X-Business-Use-Case-Usage: {"19292868552":[{"type":"pages",'
             '"call_count":100,"total_cputime":5,"total_time":9,'
             '"estimated_time_to_regain_access":30}]}'])
http("error_2_transient", error(2, "An unexpected error has occurred. "
                                "Please retry your request later.",
                                typ="OAuthException"),
     status="500 Internal Server Error")
http("error_401_no_envelope", b"", status="401 Unauthorized")
http("html_502", b"<html><head><title>502 Bad Gateway</title></head>"
     b"<body>Bad Gateway</body></html>", status="502 Bad Gateway")
http("html_200", b"<!DOCTYPE html><html><head><title>Facebook</title>"
     b"</head><body>log in</body></html>", status="200 OK")
# A page that quotes the token (found by fuzz_facebook): not repeated.
http("html_title_quotes_token", ("<html><head><title>Sign in again: %s"
                                 "</title></head></html>" % TOKEN).encode())
p1 = read("graph-posts-feed_fields_p1-sns-sdks.json")
http("truncated_json", p1[:len(p1) // 2], page="4")
http("data_not_array", b'{"data":{"id":"4_1"}}', page="4")
http("error_in_200", read("graph-error-sns-sdks.json"))
# Usage headers on a success: high usage slows down before a limit.
http("usage_high_slows", p1, page="4",
     headers=['X-App-Usage: {"call_count":85,"total_cputime":10,'
              '"total_time":20}'])
http("usage_buc_wait", p1, page="4",
     headers=['X-Business-Use-Case-Usage: {"4":[{"type":"pages",'
              '"call_count":91,"total_cputime":3,"total_time":4,'
              '"estimated_time_to_regain_access":25}]}'])
http("usage_low", p1, page="4",
     headers=['X-App-Usage: {"call_count":28,"total_cputime":25,'
              '"total_time":25}'])
# A next link with the token inside a value: never followed or kept.
http("next_quotes_token", p1.replace(b"until=1624385168",
                                     b"until=" + TOKEN.encode()), page="4")
http("next_elsewhere", p1.replace(b"https://graph.facebook.com",
                                  b"https://evil.example"), page="4")


# Webhook deliveries, byte for byte, through webhook_parse.
def hook(case, name, page="1234567890321"):
    write(case + ".webhook", read(name))
    settings(case, page)


hook("wh_comment_add_211", "webhook-feed-comment-add-211-restfb.json")
hook("wh_comment_add_25", "webhook-feed-comment-add-25-restfb.json")
hook("wh_comment_edited_25", "webhook-feed-comment-edited-25-restfb.json")
hook("wh_comment_remove_25", "webhook-feed-comment-remove-25-restfb.json")
hook("wh_post_add_25", "webhook-feed-post-add-25-restfb.json")
hook("wh_status_add_25", "webhook-feed-status-add-25-restfb.json")
hook("wh_mention_comment_add", "webhook-mention-comment-add-restfb.json")
hook("wh_messaging_ignored", "webhook-messaging-message-basic-restfb.json",
     page="12345654332")
hook("wh_other_page", "webhook-feed-comment-add-211-restfb.json",
     page="999")
# Derived: the genuine comment from a visitor (another from.id), two
# pages in one delivery, and a body that is not JSON.
d = json.loads(read("webhook-feed-comment-add-211-restfb.json"))
d["entry"][0]["changes"][0]["value"]["from"] = {"id": "2711636948859886",
                                                "name": "Example Patient"}
write("wh_visitor_comment.webhook", json.dumps(d, indent=2))
settings("wh_visitor_comment", "1234567890321")
two = json.loads(json.dumps(d))
e2 = json.loads(json.dumps(d["entry"][0]))
e2["id"] = "555"
two["entry"].append(e2)
write("wh_two_pages.webhook", json.dumps(two, indent=2))
settings("wh_two_pages", "555")
write("wh_not_json.webhook", b"object=page&entry=")
settings("wh_not_json", "1234567890321")
