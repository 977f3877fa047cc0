"""Side-by-side TAXII benchmark: OASIS medallion 3.0.0 (memory backend) and
Vigil on the same bundles, in the same run. Adds N STIX objects in envelopes
of 500, then pages through them with limit=100 following `next`, and
reports objects per second for both and Vigil's ratio.

Usage: python taxii_vs_medallion.py VIGIL_BINARY [--objects 10000]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import requests

TAXII = "application/taxii+json;version=2.1"
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
HEADERS = {"Accept": TAXII, "Content-Type": TAXII}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url, auth, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            requests.get(url, auth=auth, headers={"Accept": TAXII}, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def objects(count, identity):
    """The mix the reference measurement used: campaigns, indicators, reports,
    url and domain-name observables and relationships, all TLP:GREEN."""
    made = []
    stamp = "2029-04-01T00:00:00.000Z"
    for n in range(count):
        kind = ("campaign", "indicator", "report", "url", "domain-name", "relationship")[n % 6]
        obj = {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}",
               "object_marking_refs": [TLP_GREEN]}
        if kind in ("url", "domain-name"):
            obj["value"] = f"https://bench-{n}.example/" if kind == "url" else f"bench-{n}.example"
        else:
            obj.update({"created": stamp, "modified": stamp})
            if identity:
                obj["created_by_ref"] = identity
            if kind == "campaign":
                obj["name"] = f"Benchmark campaign {n}"
            elif kind == "indicator":
                obj.update({"name": f"Indicator {n}", "pattern_type": "stix", "valid_from": "2029-04-01T00:00:00Z",
                            "pattern": f"[domain-name:value = 'bench-{n}.example']"})
            elif kind == "report":
                obj.update({"name": f"Report {n}", "published": stamp, "object_refs": [made[-1]["id"]]})
            else:
                obj.update({"relationship_type": "related-to", "source_ref": made[-1]["id"], "target_ref": made[-2]["id"]})
        made.append(obj)
    return made


def run(collection_url, auth, bundle):
    """Adds the bundle in envelopes of 500, then pages through everything."""
    started = time.perf_counter()
    for start in range(0, len(bundle), 500):
        response = requests.post(f"{collection_url}objects/", auth=auth, headers=HEADERS,
                                 data=json.dumps({"objects": bundle[start:start + 500]}))
        response.raise_for_status()
        status = response.json()
        if status.get("success_count") != len(bundle[start:start + 500]):
            raise SystemExit(f"add failed: {status.get('failures', status)[:3]}")
    added = time.perf_counter() - started
    started = time.perf_counter()
    seen = 0
    params = {"limit": 100}
    while True:
        response = requests.get(f"{collection_url}objects/", auth=auth, headers={"Accept": TAXII}, params=params)
        response.raise_for_status()
        page = response.json()
        seen += len(page.get("objects", []))
        if not page.get("more"):
            break
        params = {"limit": 100, "next": page["next"]}
    paged = time.perf_counter() - started
    return added, paged, seen


def medallion(bundle, workdir):
    port = free_port()
    config = {
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": os.path.join(workdir, "medallion-data.json")},
        "users": {"admin": "Password0"},
        "taxii": {"max_page_size": 100},
    }
    data = {
        "/discovery": {"title": "bench", "api_roots": [f"http://127.0.0.1:{port}/bench/"]},
        "bench": {"information": {"title": "bench", "versions": [TAXII], "max_content_length": 100000000},
                  "status": [],
                  "collections": [{"id": "91a7b528-80eb-42ed-a74d-c6fbd5a26116", "title": "bench",
                                   "can_read": True, "can_write": True,
                                   "media_types": ["application/stix+json;version=2.1"],
                                   "objects": [], "manifest": []}]},
    }
    with open(config["backend"]["filename"], "w") as f:
        json.dump(data, f)
    config_path = os.path.join(workdir, "medallion.json")
    with open(config_path, "w") as f:
        json.dump(config, f)
    venv_bin = os.path.dirname(sys.executable)
    server = subprocess.Popen([os.path.join(venv_bin, "medallion"), "--host", "127.0.0.1", "--port", str(port), config_path],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        auth = ("admin", "Password0")
        wait_until_up(f"http://127.0.0.1:{port}/taxii2/", auth)
        return run(f"http://127.0.0.1:{port}/bench/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/", auth, bundle)
    finally:
        server.terminate()
        server.wait()


def vigil(binary, count, workdir):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([binary, "serve", "--demo", "--data-dir", os.path.join(workdir, "vigil-data"),
                               "--listen", f"127.0.0.1:{port}", "--max-body-bytes", "100000000"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        admin = ("admin", "vigil-demo-2026")
        analyst = ("ee.analyst", "vigil-demo-2026")
        wait_until_up(f"{base}/taxii2/", analyst)
        collection = requests.post(f"{base}/api/admin/communities/eu-ras/collections", auth=admin,
                                   json={"title": "bench", "default_tlp": "green"}).json()
        me = requests.get(f"{base}/api/me", auth=analyst).json()
        requests.put(f"{base}/api/admin/collections/{collection['id']}/grants/{me['organisation']['id']}",
                     auth=admin, json={"can_read": True, "can_write": True}).raise_for_status()
        bundle = objects(count, me["organisation"]["stix_identity"])
        return run(f"{base}/taxii2/eu-ras/collections/{collection['id']}/", analyst, bundle)
    finally:
        server.terminate()
        server.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("vigil")
    parser.add_argument("--objects", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        v_add, v_page, v_seen = vigil(os.path.abspath(args.vigil), args.objects, workdir)
        m_add, m_page, m_seen = medallion(objects(args.objects, None), workdir)
    n = args.objects
    print(f"objects: {n} (envelopes of 500; paged with limit=100)")
    print(f"{'':10} {'add (s)':>9} {'added/s':>10} {'page (s)':>9} {'paged/s':>10} {'seen':>7}")
    for name, add, page, seen in (("medallion", m_add, m_page, m_seen), ("vigil", v_add, v_page, v_seen)):
        print(f"{name:10} {add:9.2f} {n / add:10.0f} {page:9.2f} {seen / page:10.0f} {seen:7}")
    print(f"ratio (vigil / medallion): adding {m_add / v_add:.1f}x, paging {m_page / v_page:.1f}x, "
          f"end to end {(m_add + m_page) / (v_add + v_page):.1f}x")
    if v_seen != n or m_seen != n:
        raise SystemExit("a server did not return every object")


if __name__ == "__main__":
    main()
