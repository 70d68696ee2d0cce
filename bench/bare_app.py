"""The baseline: a bare Flask app answering with a body of a given size.

- ``GET /bytes/<n>``: an HTML page of exactly n bytes;
- ``POST /json/<n>``: parses the posted form (as any form view must), answers JSON of n bytes;
- ``GET /``: a page of BARE_BYTES bytes (default 20,000).

Served under the same gunicorn flags as the app, it is the rate a Flask page of that size
could reach on this machine in this run: the app's rates are given as a ratio to it.
"""
import functools
import json
import os

from flask import Flask, Response, request

app = Flask(__name__)

_HTML_FRAME = ("<!doctype html><html><body>", "</body></html>")


@functools.lru_cache(maxsize=64)
def _html(size: int) -> bytes:
    head, tail = _HTML_FRAME
    return (head + "x" * max(size - len(head) - len(tail), 0) + tail).encode()


@functools.lru_cache(maxsize=64)
def _json(size: int) -> bytes:
    body = json.dumps({"status": "ok", "pad": ""}, separators=(",", ":"))
    return json.dumps({"status": "ok", "pad": "x" * max(size - len(body), 0)}, separators=(",", ":")).encode()


@app.get("/")
def index():
    return Response(_html(int(os.environ.get("BARE_BYTES", "20000"))), mimetype="text/html")


@app.get("/bytes/<int:size>")
def page(size: int):
    return Response(_html(min(size, 10_000_000)), mimetype="text/html")


@app.post("/json/<int:size>")
def post(size: int):
    request.form  # noqa: B018 - parse the body, as the app's form handling does
    return Response(_json(min(size, 10_000_000)), mimetype="application/json")
