"""The TAXII read path never loads stix2 (its import is a cold-start cost on every Lambda).

Nor does a POST of common objects (steppe.stix.surely_valid judges them); an object of
another shape does.
"""

import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys, tempfile
from pathlib import Path
from support.app import open_app

app = open_app(Path(tempfile.mkdtemp()) / "data", "sqlite")
accept = {"Accept": "application/taxii+json;version=2.1"}
collection = f"/taxii2/steppe/collections/{app.default_collection}/"
for path in ("/taxii2/", "/taxii2/steppe/", "/taxii2/steppe/collections/", collection,
             collection + "objects/", collection + "manifest/"):
    assert app.request("GET", path, headers=accept).status == 200, path
print("stix2 loaded by reads:", "stix2" in sys.modules)
identity = {"type": "identity", "spec_version": "2.1", "created": "2009-01-18T00:00:00.000Z",
            "modified": "2009-01-18T00:00:00.000Z", "name": "CERT-KG",
            "id": "identity--5b2a9c0e-7d51-4a8e-9f53-0c2d8e6b1a47"}
reply = app.request("POST", collection + "objects/", json_body={"objects": [identity]},
                    headers=accept, content_type="application/taxii+json;version=2.1")
assert reply.status == 202, reply.body
print("stix2 loaded by a post of an identity:", "stix2" in sys.modules)
malware = {"type": "malware", "spec_version": "2.1", "created": "2009-01-18T00:00:00.000Z",
           "modified": "2009-01-18T00:00:00.000Z", "name": "BlackEnergy", "is_family": True,
           "id": "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"}
reply = app.request("POST", collection + "objects/", json_body={"objects": [malware]},
                    headers=accept, content_type="application/taxii+json;version=2.1")
assert reply.status == 202, reply.body
print("stix2 loaded by a post of a malware:", "stix2" in sys.modules)
app.close()
"""


def test_reads_and_common_posts_do_not_import_stix2_and_other_posts_do(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env={"PYTHONPATH": str(TESTS), "PATH": "/usr/bin:/bin", "POWERTOOLS_LOG_LEVEL": "ERROR"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "stix2 loaded by reads: False" in done.stdout
    assert "stix2 loaded by a post of an identity: False" in done.stdout
    assert "stix2 loaded by a post of a malware: True" in done.stdout
