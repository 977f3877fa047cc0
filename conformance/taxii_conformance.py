"""TAXII 2.1 / STIX 2.1 conformance of a running Vigil server, driven by the
OASIS client (taxii2-client) over real HTTP, with every STIX object the
server emits checked by stix2-validator 3.2.0, plus direct HTTP checks of
status codes, media types and headers.

Usage: python taxii_conformance.py BASE_URL   (a server started with --demo)
Exits 0 when every check passes; prints each failure otherwise.
"""
import json
import sys
import uuid

import requests
from stix2validator import ValidationOptions, validate_instance
from taxii2client.common import TAXIIServiceException
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

PASSWORD = "vigil-demo-2026"
TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"

failures = []
checks = 0


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        failures.append(message)
        print("FAIL:", message)


VALIDATION = ValidationOptions(version="2.1", strict=False)


def validate(objects, where):
    for obj in objects:
        result = validate_instance(obj, VALIDATION)
        check(result.is_valid, f"{where}: {obj.get('id')} fails stix2-validator: "
              + "; ".join(str(e) for e in result.errors))


def new_objects(count, identity):
    """Campaigns, indicators and URL observables, TLP:GREEN."""
    objects = []
    for n in range(count):
        kind = ("campaign", "indicator", "url")[n % 3]
        obj = {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}"}
        if kind == "url":
            obj["value"] = f"https://example.org/conformance/{n}"
        else:
            obj.update({"created": "2029-04-01T00:00:00.000Z", "modified": "2029-04-01T00:00:00.000Z",
                        "created_by_ref": identity, "object_marking_refs": [TLP_GREEN]})
            if kind == "campaign":
                obj["name"] = f"Conformance campaign {n}"
            else:
                obj.update({"name": f"Conformance indicator {n}", "description": "test",
                            "indicator_types": ["malicious-activity"], "pattern_type": "stix",
                            "pattern": f"[domain-name:value = 'conformance-{n}.example']",
                            "valid_from": "2029-04-01T00:00:00Z"})
        objects.append(obj)
    return objects


def main(base):
    discovery_url = f"{base}/taxii2/"
    server = Server(discovery_url, user="ee.analyst", password=PASSWORD)
    check(server.title == "Vigil Rapid Alert System", "discovery title")
    check(len(server.api_roots) >= 1, "discovery lists the API root")
    root = server.default
    check(root is not None and root.url.endswith("/taxii2/eu-ras/"), f"default API root: {root and root.url}")
    check(root.title == "EU Rapid Alert System", "API root title")
    check(TAXII in root.versions, f"API root versions {root.versions}")
    check(root.max_content_length > 0, "max_content_length")
    collections = {c.alias: c for c in root.collections}
    check(sorted(collections) == ["disarm", "ee2029-fimi"], f"ee.analyst's collections: {sorted(collections)}")
    collection = collections["ee2029-fimi"]
    check(collection.can_read and collection.can_write, "ee.analyst may read and write")
    check(STIX in collection.media_types, "collection media types")

    # The DISARM reference collection: read-only, every object valid STIX.
    disarm = collections["disarm"]
    check(disarm.can_read and not disarm.can_write, "DISARM is read-only")
    framework = [o for page in as_pages(disarm.get_objects, per_request=1000) for o in page.get("objects", [])]
    check(len(framework) == 698, f"DISARM objects: {len(framework)}")
    validate(framework, "DISARM objects")

    # The demo's alert, as emitted, is valid STIX.
    demo = collection.get_objects()
    check(len(demo.get("objects", [])) >= 17, "the demo alert is there")
    validate(demo.get("objects", []), "demo objects")

    # Add a few hundred objects and wait for the status, as clients do.
    me = requests.get(f"{base}/api/me", auth=("ee.analyst", PASSWORD)).json()
    identity = me["organisation"]["stix_identity"]
    objects = new_objects(300, identity)
    status = collection.add_objects({"objects": objects}, wait_for_completion=True, poll_interval=0.2)
    check(status.status == "complete", f"status {status.status}")
    check(status.success_count == 300 and status.failure_count == 0,
          f"status counts {status.success_count}/{status.failure_count}")
    check(status.total_count == status.success_count + status.failure_count + status.pending_count,
          "status counts add up")

    # Page through everything with as_pages; nothing twice, nothing missing.
    seen = []
    sizes = []
    for page in as_pages(collection.get_objects, per_request=50):
        got = page.get("objects", [])
        sizes.append(len(got))
        seen.extend(o["id"] for o in got)
        validate(got, "paged objects")
    check(len(seen) == len(set(seen)), "no object twice across pages")
    check(set(o["id"] for o in objects) <= set(seen), "every added object is paged over")
    check(all(s <= 50 for s in sizes), f"pages respect the limit: {sizes}")
    manifest_ids = []
    for page in as_pages(collection.get_manifest, per_request=70):
        for entry in page.get("objects", []):
            check(entry["media_type"] == STIX, "manifest media type")
            manifest_ids.append(entry["id"])
    check(sorted(manifest_ids) == sorted(seen), "the manifest lists exactly the objects")

    # Filters.
    campaigns = collection.get_objects(type="campaign", limit=1000).get("objects", [])
    check(campaigns and all(o["type"] == "campaign" for o in campaigns), "match[type]")
    one = objects[0]["id"]
    got = collection.get_object(one).get("objects", [])
    check([o["id"] for o in got] == [one], "get_object")
    versions = collection.object_versions(one).get("versions", [])
    check(versions == ["2029-04-01T00:00:00.000Z"], f"object_versions {versions}")
    newer = dict(objects[0], modified="2029-04-02T00:00:00.000Z", name="Conformance campaign 0, revised")
    collection.add_objects({"objects": [newer]}, wait_for_completion=True, poll_interval=0.2)
    check(collection.get_object(one)["objects"][0]["name"].endswith("revised"), "default version is the last")
    check(collection.get_object(one, version="first")["objects"][0]["modified"] == "2029-04-01T00:00:00.000Z",
          "match[version]=first")
    check(len(collection.get_object(one, version="all")["objects"]) == 2, "match[version]=all")
    last_added = None
    response = requests.get(f"{collection.url}objects/", params={"match[id]": one},
                            headers={"Accept": TAXII}, auth=("ee.analyst", PASSWORD))
    last_added = response.headers.get("X-TAXII-Date-Added-Last")
    check(last_added is not None, "X-TAXII-Date-Added-Last on a non-empty page")
    later = collection.get_objects(added_after=last_added).get("objects", [])
    check(later == [], "added_after excludes what was added at that time")

    # Access: a fact-checker does not see the national network's collection.
    outsider = Server(discovery_url, user="factchecker", password=PASSWORD)
    check(all(not r.url.endswith("/eu-ras/") for r in outsider.api_roots), "no eu-ras for the fact-checker")
    try:
        Collection(collection.url, user="factchecker", password=PASSWORD).get_objects()
        check(False, "the fact-checker could read eu-ras")
    except (TAXIIServiceException, requests.HTTPError):
        pass
    try:
        ApiRoot(root.url, user="ee.analyst", password="wrong").refresh()
        check(False, "a wrong password was accepted")
    except (TAXIIServiceException, requests.HTTPError):
        pass

    # Direct HTTP: status codes, media types and the TAXII error resource.
    auth = ("ee.analyst", PASSWORD)

    def error(response, code, what):
        check(response.status_code == code, f"{what}: expected {code}, got {response.status_code}")
        check(response.headers.get("Content-Type", "").startswith("application/taxii+json"),
              f"{what}: TAXII media type on the error")
        try:
            body = response.json()
            check(body.get("http_status") == str(code) and "title" in body, f"{what}: TAXII error resource")
        except ValueError:
            check(False, f"{what}: the error is not JSON")

    error(requests.get(discovery_url, headers={"Accept": TAXII}), 401, "no credentials")
    error(requests.get(discovery_url, headers={"Accept": "application/json"}, auth=auth), 406, "wrong Accept")
    post = lambda body, ctype: requests.post(f"{collection.url}objects/", data=body, auth=auth,
                                             headers={"Accept": TAXII, "Content-Type": ctype})
    error(post(json.dumps({"objects": []}), "application/json"), 415, "wrong Content-Type")
    error(post(json.dumps(objects[0]), TAXII), 422, "a bare object instead of an envelope")
    error(post("{not json", TAXII), 422, "malformed JSON")
    error(post(" " * (root.max_content_length + 1), TAXII), 413, "oversized body")
    error(requests.get(f"{collection.url}objects/?limit=0", headers={"Accept": TAXII}, auth=auth), 400, "limit=0")
    error(requests.get(f"{collection.url}objects/?next=tampered.cursor", headers={"Accept": TAXII}, auth=auth),
          400, "tampered cursor")
    error(requests.get(f"{root.url}collections/{uuid.uuid4()}/", headers={"Accept": TAXII}, auth=auth),
          404, "unknown collection")
    error(requests.get(f"{root.url}collections/", headers={"Accept": TAXII}, auth=("factchecker", PASSWORD)),
          404, "an API root this user is no member of")
    error(requests.post(f"{root.url}collections/", headers={"Accept": TAXII}, auth=auth), 405, "POST on collections")
    error(requests.get(f"{root.url}no-such-resource/", headers={"Accept": TAXII}, auth=auth), 404, "an unknown TAXII path")
    bad = post(json.dumps({"objects": [{"type": "campaign", "id": "campaign--nope"}]}), TAXII)
    check(bad.status_code == 202 and bad.json()["failure_count"] == 1, "an invalid object is a failure in the status")

    print(f"{checks - len(failures)}/{checks} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1].rstrip("/")))
