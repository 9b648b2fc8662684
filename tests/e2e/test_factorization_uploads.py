"""Uploads on the factorization page in real Chromium: a real photo, an RGBA and a greyscale PNG are
factorized in every view that takes a photo; a corrupt file, a truncated JPEG and a 20000 x 20000 PNG
(a decompression bomb) each get a plain message in the photo's section while the rest of the page keeps
working, and a good photo uploaded afterwards is factorized again."""
import numpy as np
import pytest
from PIL import Image

from data import IMAGES_DIR
from tests.e2e.bad_files import BAD_UPLOADS, bad_bytes, png_bytes
from tests.e2e.conftest import choose
from tests.e2e.factorization_steps import body, charts, errors, images, pick, settled, upload

HEAD = "head conv (1280 ch, 7 px)"
NO_PHOTO = "Nothing to show until a photo is chosen."


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A real photo as a student's camera would give it: the bundled china photo, 480 x 320, saved as JPEG."""
    path = tmp_path_factory.mktemp("uploads") / "temple.jpg"
    Image.open(IMAGES_DIR / "china.jpg").convert("RGB").resize((480, 320)).save(path, quality=90)
    return path.read_bytes()


def model_says(data: bytes) -> str:
    from lessons.factorization import inputs, results
    from models.catalogue import imagenet_labels

    top = results.concepts(inputs.upload_rgb(data, "whole image"), HEAD, 2)["image_classes"][0]
    return imagenet_labels()[int(top)]


def open_upload_page(open_page):
    page = open_page("factorization?factorization.image=upload+your+own")
    settled(page, "the upload prompt", lambda: "Upload a photo to factorize it" in body(page) and NO_PHOTO in body(page))
    return page


def test_a_real_photo_is_factorized_in_every_view_that_takes_one(open_page, photo):
    page = open_upload_page(open_page)
    upload(page, "temple.jpg", photo, "image/jpeg")
    says = model_says(photo)
    settled(page, "upload concepts", lambda: "your live factorization" in body(page) and images(page) == 6
            and f"For the whole image the model says {says} (" in body(page))
    assert "inside the cat's box as outside it." not in body(page)
    pick(page, "Framing", "centre crop")
    settled(page, "upload centre crop", lambda: "factorization.framing=centre+crop" in page.url and images(page) == 6
            and "your live factorization" in body(page))
    pick(page, "View", "Concept labels")
    settled(page, "upload labels", lambda: charts(page) == 1
            and "The most confident concept is" in body(page) and "your live factorization" in body(page))
    pick(page, "View", "Choosing k")
    settled(page, "upload sweep", lambda: "Suggested k:" in body(page) and charts(page) == 2 and images(page) == 2)
    pick(page, "View", "Three ways")
    settled(page, "upload three ways", lambda: "adjusted Rand index" in body(page) and images(page) == 3)
    pick(page, "View", "Co-segmentation")  # bundled photos only: the upload control is not drawn
    settled(page, "coseg beside an upload", lambda: "2 photos, one set of 4 concepts" in body(page) and images(page) == 2)
    pick(page, "View", "Concepts")  # the upload box was not drawn in that view: the page still has the photo
    settled(page, "the upload kept", lambda: "your live factorization" in body(page)
            and "Showing the photo you uploaded before" in body(page) and images(page) == 6)
    page.get_by_role("button", name="Reset", exact=True).click()
    settled(page, "reset drops the upload", lambda: "the shipped factorization" in body(page) and images(page) == 6
            and "factorization.image" not in page.url)
    choose(page, "Photo", "upload your own")
    settled(page, "the upload gone after Reset", lambda: "Upload a photo to factorize it" in body(page)
            and NO_PHOTO in body(page))


@pytest.mark.parametrize("mode", ["RGBA", "L"])
def test_rgba_and_greyscale_pngs_are_factorized(open_page, mode):
    image = Image.open(IMAGES_DIR / "coffee.jpg").convert(mode)
    if mode == "RGBA":
        image.putalpha(Image.fromarray(np.tile(np.linspace(40, 255, image.width, dtype=np.uint8), (image.height, 1))))
    data = png_bytes(image)
    page = open_upload_page(open_page)
    upload(page, f"coffee_{mode}.png", data, "image/png")
    settled(page, f"{mode} concepts", lambda: "your live factorization" in body(page) and images(page) == 6
            and f"For the whole image the model says {model_says(data)} (" in body(page))
    pick(page, "View", "Three ways")
    settled(page, f"{mode} three ways", lambda: "adjusted Rand index" in body(page) and images(page) == 3)


@pytest.mark.parametrize("kind", list(BAD_UPLOADS))
def test_a_bad_upload_gets_a_message_in_its_section_and_the_page_keeps_working(open_page, photo, kind):
    name, mime, message = BAD_UPLOADS[kind]
    page = open_upload_page(open_page)
    upload(page, name, bad_bytes(kind), mime)
    shown = f"This upload cannot be used: {message}"
    settled(page, f"{kind} refused", lambda: any(e.startswith(shown) for e in errors(page)) and NO_PHOTO in body(page)
            and images(page) == 0, allow_errors=True)
    assert len(errors(page)) == 1 and "Check yourself" in body(page) and "Do it yourself" in body(page)
    pick(page, "View", "Choosing k")  # the same upload, refused in the next view's section too
    settled(page, f"{kind} in Choosing k", lambda: "factorization.view=Choosing+k" in page.url
            and any(e.startswith(shown) for e in errors(page)) and charts(page) == 0, allow_errors=True)
    pick(page, "View", "Co-segmentation")  # a view without the upload works as usual
    settled(page, f"coseg after {kind}", lambda: "2 photos, one set of 4 concepts" in body(page) and images(page) == 2)
    pick(page, "View", "Concepts")
    settled(page, f"concepts after {kind}", lambda: len(errors(page)) == 1 and NO_PHOTO in body(page), allow_errors=True)
    upload(page, "temple.jpg", photo, "image/jpeg")  # a good photo next: factorized as usual
    settled(page, f"good after {kind}", lambda: "your live factorization" in body(page) and images(page) == 6)
