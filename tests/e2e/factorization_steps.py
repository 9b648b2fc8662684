"""The steps a student takes on the factorization page in Chromium, each waiting on the effect it must have
(a sentence, a picture count, the share link): shared by the walk and the upload tests."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.e2e.conftest import exceptions, wait_for_run, wait_until

IMAGE = '[data-testid="stImage"] img'
CHART = '[data-testid="stVegaLiteChart"]'
ERROR = '[data-testid="stAlertContentError"]'
SKELETON = '[data-testid="stSkeleton"]'


def body(page) -> str:
    return page.locator("body").inner_text()


def params(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def param(page, name: str) -> str | None:
    values = params(page).get(f"factorization.{name}")
    return values[0] if values else None


def images(page) -> int:
    return page.locator(IMAGE).count()


def charts(page) -> int:
    return page.locator(CHART).count()


def errors(page) -> list[str]:
    found = page.locator(ERROR)
    return [found.nth(i).inner_text() for i in range(found.count())]


def settled(page, what: str, condition, timeout_ms: int = 90_000, allow_errors: bool = False) -> None:
    """Wait until `condition()` holds and no skeleton is left; then no exception and (unless allowed) no error."""
    try:
        wait_until(page, lambda: condition() and not page.locator(SKELETON).count(), timeout_ms, what=what)
    except AssertionError as error:
        raise AssertionError(f"{error} (address bar {page.url}; errors {errors(page)})") from None
    wait_for_run(page, timeout_ms)
    assert condition(), f"{what}: the condition no longer holds once the run finished"
    assert exceptions(page) == [], what
    assert "This app has encountered an error" not in body(page), what
    assert "Could not draw" not in body(page), what
    if not allow_errors:
        assert errors(page) == [], (what, errors(page))


def pick(page, group: str, option: str) -> None:
    """A radio or segmented control, by its label."""
    page.get_by_role("radiogroup", name=group).get_by_text(option, exact=True).click()


def slide(page, label: str, key: str) -> None:
    """Focus the slider labelled `label` and press `key` (ArrowRight, Home, End...)."""
    slider = page.locator('[data-testid="stSlider"]').filter(has_text=label).first.get_by_role("slider")
    slider.focus()
    slider.press(key)


def slider_value(page, label: str) -> str:
    slider = page.locator('[data-testid="stSlider"]').filter(has_text=label).first.get_by_role("slider")
    return slider.get_attribute("aria-valuetext")


def first_image_src(page) -> str | None:
    return page.locator(IMAGE).first.get_attribute("src") if images(page) else None


def upload(page, name: str, data: bytes, mime: str) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}])
