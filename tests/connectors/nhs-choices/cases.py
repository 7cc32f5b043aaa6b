#!/usr/bin/env python3
"""Writes the nhs-choices golden cases' .http files from payloads/.

A case is a status line and headers (ours: the captures kept no
headers), a blank line, then a body that is one of:

  whole    a genuine payload, byte for byte;
  excerpt  a genuine feed cut down to some of its entries: the bytes
           before its first <entry> (BOM and head), the named entries
           each byte for byte with the line they sit on, then
           "</feed>\\n";
  cut      the first N bytes of a genuine payload (a truncated body);
  literal  bytes written here (README.md says which and why).

The .settings and .cursor files beside the cases are written by hand.
Run this from anywhere; it rewrites the cases below and nothing else.
"""

import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ATOM = "Content-Type: application/atom+xml; charset=utf-8"
HTML = "Content-Type: text/html; charset=utf-8"
TEXT = "Content-Type: text/plain"

CASES = {
    # Genuine payloads, whole.
    "comments_sample": ("200 OK", [ATOM], ("whole", "comments-sample.atom")),
    "commentssince_complete": ("200 OK", [ATOM],
                               ("whole", "commentssince-sample.atom")),
    "resume_page_1000": ("200 OK", [ATOM], ("whole", "comments-sample.atom")),
    "next_link_not_forward": ("200 OK", [ATOM],
                              ("whole", "comments-sample.atom")),
    "filter_ods_code": ("200 OK", [ATOM], ("whole", "comments-sample.atom")),
    "filter_organisation": ("200 OK", [ATOM],
                            ("whole", "commentssince-sample.atom")),
    "since_setting": ("200 OK", [ATOM],
                      ("whole", "commentssince-sample.atom")),
    "empty_result_404": ("404 Not Found", [HTML],
                         ("whole", "empty-result-404.html")),
    "empty_result_404_mid_sweep": ("404 Not Found", [HTML],
                                   ("whole", "empty-result-404.html")),
    "per_organisation_empty": ("404 Not Found", [HTML],
                               ("whole", "empty-result-404.html")),
    "html_page_200": ("200 OK", [HTML], ("whole", "empty-result-404.html")),
    "not_atom_organisation": ("200 OK", ["Content-Type: application/xml"],
                              ("whole", "organisation-sample.xml")),
    "truncated": ("200 OK", [ATOM], ("cut", "commentssince-sample.atom",
                                     20000)),
    # Genuine entries, cut out of their feed.
    "bom": ("200 OK", [ATOM], ("excerpt", "comments-sample.atom",
                               ["81057"])),
    "double_escaped_title": ("200 OK", [ATOM],
                             ("excerpt", "comments-sample.atom",
                              ["81013", "80452R"])),
    "reply_id_r": ("200 OK", [ATOM], ("excerpt", "comments-sample.atom",
                                      ["80942R", "80942"])),
    "deletion_entry": ("200 OK", [ATOM],
                       ("excerpt", "commentssince-sample.atom",
                        ["209429"])),
    "ratings_friends_family": ("200 OK", [ATOM],
                               ("excerpt", "commentssince-sample.atom",
                                ["210744", "210602"])),
    # Faults: the API's own bodies for these were never captured.
    "bad_key_401": ("401 Unauthorized", [TEXT], ("literal", b"Unauthorized")),
    "bad_key_403": ("403 Forbidden", [TEXT], ("literal", b"Forbidden")),
    "rate_limited_429": ("429 Too Many Requests", [TEXT, "Retry-After: 120"],
                         ("literal", b"Too many requests")),
    "rate_limited_429_date": ("429 Too Many Requests",
                              [TEXT, "Date: Tue, 23 Jul 2013 08:00:00 GMT",
                               "Retry-After: Tue, 23 Jul 2013 08:01:30 GMT"],
                              ("literal", b"Too many requests")),
    "server_error_500": ("500 Internal Server Error", [TEXT],
                         ("literal", b"Internal Server Error")),
    "unavailable_503": ("503 Service Unavailable", [TEXT],
                        ("literal", b"Service Unavailable")),
    "other_404": ("404 Not Found", [TEXT], ("literal", b"Not Found")),
    "dtd_refused": ("200 OK", [ATOM], ("literal",
                    b'<?xml version="1.0"?>\n<!DOCTYPE feed [\n'
                    b'<!ENTITY a "aaaaaaaaaa">\n]>\n'
                    b'<feed xmlns="http://www.w3.org/2005/Atom">'
                    b'<entry><id>1</id><title>&a;</title></entry></feed>\n')),
    "key_not_echoed": ("200 OK", [HTML], ("literal",
                       b"<html><head><title>No comments for key APIKEY"
                       b"</title></head><body></body></html>\n")),
    "config_bad_apikey": ("200 OK", [ATOM], ("literal", b"<feed/>\n")),
    "config_no_apikey": ("200 OK", [ATOM], ("literal", b"<feed/>\n")),
    "config_bad_since": ("200 OK", [ATOM], ("literal", b"<feed/>\n")),
    "config_bad_base_url": ("200 OK", [ATOM], ("literal", b"<feed/>\n")),
}


def payload(name):
    with open(os.path.join(HERE, "payloads", name), "rb") as f:
        return f.read()


def excerpt(data, ids):
    """The head, then each named entry with its leading blanks."""
    head = data[:data.index(b"<entry>")]
    head = head[:head.rindex(b"\n") + 1]
    out = [head]
    for i in ids:
        m = re.search(rb"\n([ \t]*<entry>\s*<id>%s</id>.*?</entry>\r?\n)"
                      % re.escape(i.encode()), data, re.S)
        if m is None:
            raise SystemExit("no entry %s" % i)
        out.append(m.group(1))
    out.append(b"</feed>\n")
    return b"".join(out)


def body(spec):
    kind = spec[0]
    if kind == "whole":
        return payload(spec[1])
    if kind == "excerpt":
        return excerpt(payload(spec[1]), spec[2])
    if kind == "cut":
        return payload(spec[1])[:spec[2]]
    return spec[1]


def main():
    for name, (status, headers, spec) in sorted(CASES.items()):
        head = "HTTP/1.1 %s\r\n%s\r\n\r\n" % (status, "\r\n".join(headers))
        with open(os.path.join(HERE, name + ".http"), "wb") as f:
            f.write(head.encode() + body(spec))


if __name__ == "__main__":
    main()
