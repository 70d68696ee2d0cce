"""The baseline: a bare Flask app serving a fixed page of a given size (BARE_BYTES)."""
import os

from flask import Flask

app = Flask(__name__)
_BODY = ("<!doctype html><html><body>" + "x" * max(int(os.environ.get("BARE_BYTES", "20000")) - 40, 0)
         + "</body></html>")


@app.get("/")
def index():
    return _BODY
