#!/usr/bin/env python3
"""An eventd executable producer in Python: one HTTP health check per
configured service, run once per period, one JSON sample per line.

Config (producers.HttpHealth in eventd's config, handed over as
EVENTD_CONFIG): {"checks": {"web": "http://127.0.0.1:8080/healthz"},
"timeoutMs": 2000}. Checks run in parallel so one slow service does not
make the whole run overrun its period.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def check(name, url, timeout_s):
    started = time.monotonic()
    attrs = {}
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            attrs["status"] = response.status
            attrs["up"] = 200 <= response.status < 300
    except urllib.error.HTTPError as error:  # an answer, but not 2xx
        attrs["status"] = error.code
        attrs["up"] = False
    except Exception as error:  # refused, timeout, DNS, bad URL
        attrs["up"] = False
        attrs["error"] = f"{type(error).__name__}: {error}"[:200]
    attrs["latencyMs"] = round((time.monotonic() - started) * 1000, 1)
    return {"resource": name, "attrs": attrs}


def main():
    config = json.loads(os.environ.get("EVENTD_CONFIG") or "{}")
    checks = config.get("checks") or {}
    if not isinstance(checks, dict):
        print("producers.HttpHealth.checks must be an object of name -> URL", file=sys.stderr)
        return 2
    period_ms = int(os.environ.get("EVENTD_PERIOD_MS", "5000"))
    timeout_s = min(config.get("timeoutMs", 2000), period_ms * 0.8) / 1000
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(checks)))) as pool:
        for sample in pool.map(lambda item: check(item[0], item[1], timeout_s), checks.items()):
            print(json.dumps(sample), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
