"""Checks the node's web pages with independent parsers (used by bin/jinlian/tests/up.rs).

    web_check.py html FILE...   each file must parse as HTML5 with no parse error (html5lib, strict)
        web_check.py metrics FILE   parses Prometheus text with prometheus_client's parser and
                                prints {"name{label=\"v\",...}": value, ...} for every sample
                                (labels sorted; no braces when it has none)
"""

import json
import sys


def check_html(paths):
    import html5lib

    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        parser = html5lib.HTMLParser(strict=True)
        try:
            parser.parse(data)
        except Exception as e:  # html5lib raises ParseError with the position
            print(f"{path}: not valid HTML: {e}", file=sys.stderr)
            sys.exit(1)


def read_metrics(path):
    from prometheus_client.parser import text_string_to_metric_families

    with open(path, encoding="utf-8") as f:
        text = f.read()
        out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "html":
        check_html(sys.argv[2:])
    elif sys.argv[1] == "metrics":
        read_metrics(sys.argv[2])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
