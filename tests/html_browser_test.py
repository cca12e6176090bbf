#!/usr/bin/env python3
"""--html pages rendered in a real browser (Debian's chromium, headless).

For inspect, diff and estimate: the page is written, chromium runs its
script (--dump-dom gives the DOM after it), and the totals the page shows
equal those the same command prints as JSON; the treemap, the tensor table
and the stacked bars were drawn. A checkpoint whose tensor names are HTML
and script must come out as text, with no element and no script of its own.
Screenshots go to the output folder for people to look at.

    html_browser_test.py PTSCOPE SOURCE_DIR OUT_DIR

Exits 77 (ctest's skip) when chromium is not installed. Standard library only.
"""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
from html.parser import HTMLParser

SKIP = 77


class Dom(HTMLParser):
    """What the tests read from a dumped DOM: data-total cells, attributes of
    chosen elements, the tensor table's rows, every tag seen."""

    def __init__(self):
        super().__init__()
        self.totals, self.tags, self.attrs, self.cells = {}, [], [], []
        self._total = None
        self._in_td = False
        self._rows = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.attrs.append((tag, a))
        if tag == "td":
            self._in_td = True
            self._text = ""
            self._total = a.get("data-total")
        if tag == "tr":
            self._rows.append([])

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_td = False
            if self._rows:
                self._rows[-1].append(self._text)
            if self._total:
                self.totals[self._total] = self._text
            self._total = None

    def handle_data(self, data):
        if self._in_td:
            self._text += data

    def rows(self):
        return self._rows


def number(text):
    m = re.match(r"^([\d,]+)", text.strip())
    if not m:
        return None if text.strip() == "unknown" else text
    return int(m.group(1).replace(",", ""))


FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def run(ptscope, args, cwd):
    r = subprocess.run([ptscope] + args, cwd=cwd, capture_output=True, text=True)
    return r


def render(chromium, page, png):
    url = "file://" + os.path.abspath(page)
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--user-data-dir=" + os.path.abspath(page) + ".profile"]
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    subprocess.run(base + ["--window-size=1100,900", "--screenshot=" + os.path.abspath(png), url],
                   capture_output=True, timeout=120)
    shutil.rmtree(os.path.abspath(page) + ".profile", ignore_errors=True)
    d = Dom()
    d.feed(dom)
    return dom, d


def drawn(name, d, table_rows):
    body = [a for t, a in d.attrs if t == "body"]
    check(body and body[0].get("data-rendered") == "yes", name + ": the page's script ran to the end")
    check(sum(1 for t, a in d.attrs if t == "rect" and "data-module" in a) > 0, name + ": treemap drawn")
    tables = [a for t, a in d.attrs if t == "table" and "data-rows" in a]
    check(tables and int(tables[0]["data-rows"]) == table_rows,
          name + ": tensor table has %d rows (%s)" % (table_rows, tables[0]["data-rows"] if tables else "none"))


def treemap_total(d):
    found = [int(a["data-treemap-total"]) for t, a in d.attrs if t == "svg" and "data-treemap-total" in a]
    return found[0] if found else None


def safetensors(path, names):
    header, blobs, off = {}, b"", 0
    for n in names:
        header[n] = {"dtype": "F32", "shape": [2], "data_offsets": [off, off + 8]}
        blobs += struct.pack("<2f", 1.0, 2.0)
        off += 8
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blobs)


def main():
    ptscope, src, out = sys.argv[1:4]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium is not installed: skipped")
        return SKIP
    os.makedirs(out, exist_ok=True)
    fx = os.path.join(src, "fixtures")

    # inspect
    page = os.path.join(out, "inspect.html")
    f = os.path.join(fx, "tied_lm.pt")
    r = run(ptscope, ["inspect", "--html", page, "-f", "json", f], src)
    check(r.returncode == 0, "inspect --html exits 0: " + r.stderr)
    j = json.loads(r.stdout)[0]
    _, d = render(chromium, page, os.path.join(out, "inspect.png"))
    for key in ("file_bytes", "tensors", "numel", "tensor_bytes", "storage_bytes", "overhead_bytes"):
        check(number(d.totals.get(key, "")) == j[key], "inspect: %s on the page equals JSON's %s" % (key, j[key]))
    for key in ("parameters", "buffers"):
        check(number(d.totals.get(key, "")) == j[key]["numel"], "inspect: %s equals JSON's numel" % key)
    drawn("inspect", d, j["tensors"])
    check(treemap_total(d) == j["parameters"]["numel"],
          "inspect: the treemap's area is the parameters, tied weights once (%s)" % treemap_total(d))

    # diff
    page = os.path.join(out, "diff.html")
    a, b = os.path.join(fx, "diff", "base.pt"), os.path.join(fx, "diff", "added_removed.pt")
    r = run(ptscope, ["diff", "--html", page, "-f", "json", a, b], src)
    check(r.returncode == 3, "diff --html exits 3 on different files")
    j = json.loads(r.stdout)[0]
    _, d = render(chromium, page, os.path.join(out, "diff.png"))
    for key in ("added", "removed", "renamed", "changed"):
        check(number(d.totals.get(key, "")) == len(j[key]), "diff: %s on the page equals JSON's %d" % (key, len(j[key])))
    check(number(d.totals.get("unchanged", "")) == j["unchanged"], "diff: unchanged equals JSON's")
    classes = [a.get("class") for t, a in d.attrs if t == "tr" and a.get("class")]
    check(classes.count("added") == 1 and classes.count("removed") == 1, "diff: added and removed rows highlighted")
    drawn("diff", d, len(j["added"]) + len(j["removed"]) + len(j["changed"]) + j["unchanged"])

    # estimate: the stacked bars add up to the JSON's totals
    page = os.path.join(out, "estimate.html")
    f = os.path.join(fx, "arch", "llama_tiny.pt")
    r = run(ptscope, ["estimate", "--html", page, "-f", "json", "--gpus", "4", "--strategy", "zero3", f], src)
    check(r.returncode == 0, "estimate --html exits 0: " + r.stderr)
    j = json.loads(r.stdout)[0]
    _, d = render(chromium, page, os.path.join(out, "estimate.png"))
    params = j["parameters"]["numel"] if isinstance(j["parameters"], dict) else j["parameters"]
    check(number(d.totals.get("parameters", "")) == params, "estimate: parameters equal JSON's %s" % params)
    check(number(d.totals.get("inference_total", "")) == j["inference"]["total_bytes"], "estimate: inference total")
    check(number(d.totals.get("training_total", "")) == j["training"]["total_bytes"], "estimate: training total")
    bars = [int(a["data-bar-total"]) for t, a in d.attrs if t == "text" and "data-bar-total" in a]
    want = [j["inference"]["total_bytes"]] + list(j["training"]["per_gpu_bytes_by_strategy"].values())
    check(bars == want, "estimate: stacked bars add up to JSON's inference and per-GPU totals %s (page %s)" % (want, bars))
    check(treemap_total(d) == params, "estimate: the treemap's area is the parameters")
    tensors = json.loads(run(ptscope, ["inspect", "-f", "json", f], src).stdout)[0]["tensors"]
    drawn("estimate", d, tensors)

    # hostile names: text, never markup or script
    hostile = ["</script><script>document.title='pwned'</script>",
               "<img src=x onerror=\"document.title='pwned'\">.weight",
               "a&amp;b.\"quoted\".'single'.bias"]
    evil = os.path.join(out, "hostile.safetensors")
    safetensors(evil, hostile)
    page = os.path.join(out, "hostile.html")
    r = run(ptscope, ["inspect", "--html", page, evil], src)
    check(r.returncode == 0, "inspect --html on hostile names exits 0: " + r.stderr)
    dom, d = render(chromium, page, os.path.join(out, "hostile.png"))
    check("img" not in d.tags, "hostile: no <img> element made from a name")
    check(d.tags.count("script") == 2, "hostile: only the page's two scripts")
    check("<title>pwned" not in dom and "pwned</title>" not in dom, "hostile: no script from a name ran")
    cells = [c for row in d.rows() for c in row]
    for n in hostile:
        check(n in cells, "hostile: %r shown as text in the table" % n[:30])
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
