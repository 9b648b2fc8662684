"""The feature-visualization lesson in AppTest: the shipped gallery first without torch, every view,
an optimization in the page (its run stored per student), the NaN stop, the regularizer comparison,
uploads good and bad, the digits CNN, presets, share link, presenter mode, Reset, and the shared
model untouched."""
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lessons.features.helpers import VIEWS
from tests.app.lesson import open_lesson

ROOT = Path(__file__).resolve().parents[2]
TINY = {"steps": 16, "size": 64}


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [s.value for s in at.success] + [w.value for w in at.warning]
    return "\n".join(parts + [i.value for i in at.info] + [e.value for e in at.error] + [c.value for c in at.caption])


def images(at) -> int:
    return len(at.get("image"))


def test_the_first_render_draws_the_shipped_gallery_without_importing_torch():
    code = ("import json, sys\nfrom streamlit.testing.v1 import AppTest\nfrom lessons import warmup\n"
            "warmup.start = lambda slug: None\n"  # no background warm-up: only what the render itself imports
            "at = AppTest.from_string(\"from lessons.registry import get; get('features').render()\", "
            "default_timeout=120)\nat.run()\n"
            "print(json.dumps({'torch': 'torch' in sys.modules, 'exceptions': [str(e.value) for e in at.exception], "
            "'images': len(at.get('image'))}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"torch": False, "exceptions": [], "images": report["images"]}
    assert report["images"] >= 17  # 16 gallery pictures and the enlarged one


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_draws_pictures_and_sentences(view):
    at = open_lesson("features", state={"view": view})
    assert images(at) >= 1, view
    assert not at.error, [e.value for e in at.error]
    assert "What you see" in [h.value for h in at.subheader]


def test_optimizing_in_the_page_stores_the_students_run():
    at = open_lesson("features", state={"view": "Optimize", **TINY})
    assert "Press Optimize" in texts(at)
    at.button(key="features._optimize").click().run()
    assert not at.exception
    runs = at.session_state["features.runs"]
    assert len(runs) == 1 and runs[0].status == "finished" and len(runs[0].objectives) == 16
    assert runs[0].image.shape == (64, 64, 3)
    assert "Your run raised the objective" in texts(at)
    other = open_lesson("features", state={"view": "Optimize", **TINY})  # another student
    assert other.session_state["features.runs"] == []


def test_the_default_settings_show_the_shipped_picture_until_the_student_optimizes():
    at = open_lesson("features", state={"view": "Optimize"})
    assert "Showing the shipped picture for these settings" in texts(at)
    assert "The shipped picture reached an objective" in texts(at)


def test_an_absurd_learning_rate_stops_the_run_with_a_message():
    at = open_lesson("features", state={"view": "Optimize", "lr": 1e36, "steps": 32, "size": 64})
    at.button(key="features._optimize").click().run()
    assert not at.exception
    assert at.session_state["features.runs"][-1].status == "diverged"
    assert any("the image became NaN" in e.value for e in at.error)


def test_the_regularizer_comparison_runs_eight_variants():
    at = open_lesson("features", state={"view": "Regularizers", **TINY})
    assert "Showing the shipped comparison for" in texts(at)  # other settings than the shipped ones
    at.button(key="features._compare").click().run()
    assert not at.exception
    comparison = at.session_state["features.comparisons"][-1]
    assert comparison.status == "finished" and len(comparison.images) == 8
    assert "In your comparison" in texts(at)


def png_bytes(mode: str, size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    array = (np.random.default_rng(0).random((size[1], size[0], 3)) * 255).astype(np.uint8)
    image = Image.fromarray(array).convert(mode)
    image.save(buffer, format="JPEG" if mode == "CMYK" else "PNG")
    return buffer.getvalue()


def open_upload_page():
    at = open_lesson("features", state={"view": "Feature maps", "image": "upload your own"})
    assert "Upload a photo" in texts(at)
    return at


@pytest.mark.parametrize("mode", ["RGBA", "CMYK", "I;16", "L"])
def test_odd_but_valid_uploads_get_feature_maps(mode, monkeypatch):
    data = png_bytes(mode)
    at = open_upload_page()
    monkeypatch.setattr("streamlit.file_uploader", lambda *a, **k: _Uploaded(data))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "The maps go from 112 x 112" in texts(at)


@pytest.mark.parametrize("data, message", [(b"not an image at all", "not a readable"),
                                            (png_bytes("CMYK")[:-400], "damaged"),
                                            (png_bytes("RGB", (8, 8)), "at least 16 pixels")])
def test_bad_uploads_get_a_message_in_their_section(data, message, monkeypatch):
    at = open_upload_page()
    monkeypatch.setattr("streamlit.file_uploader", lambda *a, **k: _Uploaded(data))
    at.run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert "Check yourself" in [h.value for h in at.subheader]  # the rest of the page is drawn


class _Uploaded:
    def __init__(self, data: bytes):
        self.data = data

    def getvalue(self) -> bytes:
        return self.data


def test_the_digits_cnn_in_feature_maps_and_dataset_examples():
    at = open_lesson("features", state={"view": "Feature maps", "model": "digits_cnn"})
    assert "The maps go from 28 x 28 cells at block 1 to 14 x 14 at block 2" in texts(at)
    at = open_lesson("features", state={"view": "Dataset examples", "model": "digits_cnn", "channel": 2})
    assert not at.error and "held-out digits" in texts(at)


def test_controls_change_the_picture_and_the_share_link_reproduces_it():
    at = open_lesson("features", query={"features.view": "Feature maps", "features.image": "coffee"})
    assert at.selectbox(key="features.image").value == "coffee"
    before = texts(at)
    at.select_slider(key="features.per_stage").set_value(4).run()
    assert texts(at) != before and "the 4 most active" in texts(at)
    at = open_lesson("features", query={"features.view": "Gallery", "features.gallery_pick": "stage 7 · channel 2"})
    from lessons.features.helpers import gallery

    entry = next(e for e in gallery()["gallery"] if e["stage"].startswith("stage 7") and e["channel"] == 2)
    assert at.selectbox(key="features.gallery_pick").value == "stage 7 · channel 2"
    assert f"Its radial power spectrum; centroid {entry['centroid']:.3f}" in texts(at)


def test_an_experiment_names_the_run_it_judged():
    at = open_lesson("features")
    at.radio(key="features._predict.stages").set_value("stage 2 (early)").run()
    at.button(key="features._setup.stages").click().run()
    assert any("Judged on the shipped gallery" in s.value for s in at.success)
    at.radio(key="features._predict.regularizers").set_value("more").run()
    at.button(key="features._setup.regularizers").click().run()
    assert at.session_state["features.view"] == "Regularizers"
    assert any("Judged on the shipped comparison" in s.value for s in at.success)


def test_presenter_mode_hides_the_prose_and_reset_restores_the_defaults():
    at = open_lesson("features", state={"view": "Optimize", "steps": 32}, session={"presenter": True})
    headers = [h.value for h in at.subheader]
    assert "Check yourself" not in headers and "Further reading" not in headers
    at.button(key="features._reset_button").click().run()
    assert at.session_state["features.view"] == "Gallery" and at.session_state["features.steps"] == 128


def test_nothing_a_student_does_changes_the_shared_model():
    from models import zoo

    model, _ = zoo.load("efficientnet_lite0")

    def digest():
        h = hashlib.sha256()
        for key, value in model.state_dict().items():
            h.update(key.encode() + value.numpy().tobytes())
        return h.hexdigest()

    before, hooks = digest(), zoo.count_hooks(model)
    for view in ("Feature maps", "Dataset examples"):
        open_lesson("features", state={"view": view, "channel": 5})
    at = open_lesson("features", state={"view": "Optimize", "objective": "neuron", **TINY})
    at.button(key="features._optimize").click().run()
    assert digest() == before and zoo.count_hooks(model) == hooks
