"""Every control of the gradient lesson in real Chromium, as a student uses them, each with the change
it must make: the view controls (the picture is redrawn with other pixels or other words), compare,
presenter mode, Reset, a share link with values that no longer exist; two students training at the
same moment; and a view clicked on a fresh server right after Train (the run must survive)."""
from urllib.parse import urlencode

from tests.e2e.conftest import exceptions, wait_for_run, wait_until

CHART = '[data-testid="stVegaLiteChart"]'
SHORT = {"gradients.depth": 3, "gradients.width": 16, "gradients.steps": 20}


def body(page) -> str:
    return page.locator("body").inner_text()


def url(params: dict) -> str:
    return "gradients?" + urlencode(params)


def pixels(page, nth: int = 0) -> bytes:
    """The chart as the student sees it (a Vega chart draws on a canvas: compare its pixels)."""
    chart = page.locator(CHART).nth(nth)
    chart.wait_for(timeout=60_000)
    return chart.screenshot()


def chart_height(page) -> float:
    box = page.locator(CHART).first.bounding_box()  # None while the chart is being redrawn
    return box["height"] if box else 0.0


def view(page, name: str) -> None:
    page.get_by_role("radiogroup", name="View").get_by_role("radio", name=name, exact=True).click()
    wait_until(page, lambda: "gradients.view=" + name.replace(" ", "+") in page.url, what=f"the view {name}")
    wait_for_run(page)


def pick_radio(page, label: str, option: str) -> None:
    group = page.locator('[data-testid="stRadio"]').filter(has_text=label).first
    group.get_by_text(option, exact=True).click()


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the select box `label`. Its list closes when the page scrolls, so the box is
    scrolled into view first, and opened again if a late scroll closed it."""
    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]').filter(has_text=label)).first
    box.scroll_into_view_if_needed()
    for _ in range(5):
        box.get_by_role("combobox").click()
        item = page.get_by_role("option", name=option, exact=True)
        try:
            item.wait_for(timeout=5_000)
        except Exception:  # noqa: BLE001 - the list was closed by a scroll: open it again
            page.keyboard.press("Escape")
            continue
        item.click()
        return
    raise AssertionError(f"could not open the select box {label}")


def changes_picture(page, act, what: str, nth: int = 0) -> None:
    """`act()` must redraw chart `nth` with other pixels."""
    before = pixels(page, nth)
    act()
    wait_until(page, lambda: pixels(page, nth) != before, what=what)
    assert exceptions(page) == [], what


def shows(page, text: str) -> None:
    """Wait until the page says `text`: a chart's pixels can change before the caption under it does."""
    wait_until(page, lambda: text in body(page), what=repr(text))


def train_short(page) -> None:
    page.locator("button").filter(has_text="Train").first.click()
    wait_until(page, lambda: "This is your run #1" in body(page) and "finished" in body(page), 120_000,
               what="the short run")
    wait_for_run(page)


def test_every_view_control_changes_what_the_view_shows(open_page):
    page = open_page(url(SHORT))
    train_short(page)
    changes_picture(page, lambda: pick_radio(page, "Statistic", "mean |g| per weight"), "Statistic: mean |g|")
    assert "gradients.statistic=" in page.url
    changes_picture(page, lambda: pick_radio(page, "Axes", "autoscaled"), "Axes: autoscaled")
    shows(page, "Autoscaled axes: compare magnitudes with care")
    changes_picture(page, lambda: pick_radio(page, "Axes", "fixed"), "Axes: fixed")

    view(page, "Gradient flow")
    changes_picture(page, lambda: pick_radio(page, "Step", "latest step"), "Gradient flow: latest step")
    shows(page, "Gradient flow at step 20")

    view(page, "Heatmap")
    changes_picture(page, lambda: pick_radio(page, "Rows", "largest value"), "Heatmap: largest value")
    shows(page, "sorted by the largest value each layer reached")

    view(page, "Distributions")
    panels = chart_height(page)
    pick_radio(page, "Layers", "all layers")  # 4 layers of a depth-3 MLP instead of 3 panels
    wait_until(page, lambda: chart_height(page) > panels * 1.2,
               what="a panel per layer")

    view(page, "Updates and activations")
    changes_picture(page, lambda: pick_radio(page, "Step", "first step"), "Activations: first step", nth=1)

    view(page, "Diagnosis")
    pick_radio(page, "Step", "latest step")
    wait_until(page, lambda: "At step 20" in body(page), what="the diagnosis at the latest step")
    pick_radio(page, "Step", "first step")
    wait_until(page, lambda: "At step 1" in body(page), what="the diagnosis at the first step")
    assert "Autoscaled axes fit each chart" in body(page)

    view(page, "Compare")
    choose(page, "Left", "Deep sigmoid (vanishing)")
    choose(page, "Right", "ReLU + BatchNorm + residual")
    wait_until(page, lambda: "the shipped precomputed runs" in body(page), what="the shipped pair")
    text = body(page)
    assert "Deep sigmoid (vanishing) (precomputed)" in text and "ReLU + BatchNorm + residual (precomputed)" in text
    assert "vanishing" in text and exceptions(page) == []


def test_network_controls_and_presets_change_the_settings_and_the_run_shown(open_page):
    page = open_page("gradients")
    page.locator(CHART).first.wait_for(timeout=60_000)
    changes_picture(page, lambda: choose(page, "Activation", "sigmoid"), "Activation: sigmoid")
    wait_until(page, lambda: "gradients.activation=sigmoid" in page.url, what="the activation in the link")
    shows(page, "mlp 10x64 sigmoid, kaiming init")
    changes_picture(page, lambda: choose(page, "Initialization", "PyTorch default"), "Init: default")
    shows(page, "Deep sigmoid (vanishing) preset")  # these settings are exactly that preset
    choose(page, "Normalization", "BatchNorm")
    wait_until(page, lambda: "Cure: BatchNorm preset" in body(page), what="the BatchNorm cure's run")
    page.locator('[data-testid="stCheckbox"]').filter(has_text="Residual connections").first.click()
    wait_until(page, lambda: "gradients.residual=true" in page.url
               and "batchnorm, residual" in body(page), what="residual on (the caption names it)")
    page.locator("button").filter(has_text="Init x10").first.click()
    wait_until(page, lambda: "Init x10 (exploding) preset" in body(page) and "overflowed" in body(page),
               what="the init x10 preset and its overflow message")
    assert exceptions(page) == []


def test_presenter_mode_enlarges_the_chart_and_hides_the_prose(open_page):
    page = open_page("gradients")
    page.locator(CHART).first.wait_for(timeout=60_000)
    height = chart_height(page)
    assert "Check yourself" in body(page)
    page.locator('[data-testid="stSidebar"] [data-testid="stCheckbox"]').filter(has_text="Presenter mode").first.click()
    wait_until(page, lambda: chart_height(page) > 1.3 * height,
               what="a larger chart")
    wait_for_run(page)
    assert "Check yourself" not in body(page) and exceptions(page) == []
    by_link = open_page("gradients?presenter=true")
    by_link.locator(CHART).first.wait_for(timeout=60_000)
    wait_until(by_link, lambda: chart_height(by_link) > 1.3 * height, what="a larger chart from the link")
    assert "Check yourself" not in body(by_link)


def test_reset_and_a_stale_share_link(open_page):
    page = open_page(url({"gradients.view": "Nope", "gradients.depth": 999, "gradients.activation": "swish"}))
    page.locator(CHART).first.wait_for(timeout=60_000)
    assert exceptions(page) == []
    checked = page.get_by_role("radiogroup", name="View").locator('[aria-checked="true"]').inner_text()
    assert checked == "Norms" and "shipped precomputed run of the Healthy" in body(page)
    assert "mlp 10x64 relu" in body(page)  # the defaults stand in for values that do not exist
    assert "This link asked for View “Nope”, which the page no longer offers" in body(page)  # and the page says so
    assert "Depth (hidden layers) “999”" in body(page) and "Activation “swish”" in body(page)
    page = open_page(url({"gradients.view": "Heatmap", "gradients.activation": "sigmoid", "gradients.init": "PyTorch default"}))
    assert "Deep sigmoid (vanishing) preset" in body(page)
    page.locator("button").filter(has_text="Reset").first.click()
    wait_until(page, lambda: "gradients.activation" not in page.url and "gradients.view" not in page.url,
               what="a clean share link")
    wait_for_run(page)
    assert page.get_by_role("radiogroup", name="View").locator('[aria-checked="true"]').inner_text() == "Norms"
    assert "shipped precomputed run of the Healthy" in body(page)


RECORD_TRAINING = """() => { window.__training = [];
  new MutationObserver(() => { if (document.querySelector('[data-testid="stProgress"]')) window.__training.push(Date.now()); })
    .observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true}); }"""


def test_two_students_training_at_the_same_time_see_only_their_own_runs(browser, app_url):
    settings = [{**SHORT, "gradients.depth": 3, "gradients.steps": 500},
                {**SHORT, "gradients.depth": 4, "gradients.steps": 500}]
    pages = [browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in settings]
    try:
        for page, params in zip(pages, settings):
            page.goto(f"{app_url}/{url(params)}")
            wait_for_run(page)
            page.evaluate(RECORD_TRAINING)
        for page in pages:
            page.locator("button").filter(has_text="Train").first.click()
        for page in pages:
            wait_until(page, lambda page=page: "This is your run #1" in body(page) and "finished" in body(page),
                       180_000, what="each student's run")
        spans = [page.evaluate("() => window.__training") for page in pages]  # wall-clock ms with a progress bar
        assert all(spans) and max(s[0] for s in spans) < min(s[-1] for s in spans)  # they trained at once
        mine, theirs = body(pages[0]), body(pages[1])
        assert "#1 mlp 3x16" in mine and "mlp 4x16" not in mine
        assert "#1 mlp 4x16" in theirs and "mlp 3x16" not in theirs
        assert "#2" not in mine and "#2" not in theirs  # one run each, numbered per student
    finally:
        for page in pages:
            page.context.close()


def test_a_view_clicked_right_after_train_on_a_fresh_server_keeps_the_run(browser, fresh_server):
    """On a fresh server the first run waits for the lesson's warm-up; a click meanwhile used to abort the
    Train callback (Streamlit stops a callback at its next session-state access) and lose the run."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{fresh_server}/{url({**SHORT, 'gradients.steps': 200})}")
        wait_for_run(page)
        page.locator("button").filter(has_text="Train").first.click()
        page.get_by_role("radiogroup", name="View").get_by_role("radio", name="Heatmap", exact=True).click()
        page.get_by_role("radiogroup", name="View").get_by_role("radio", name="Gradient flow", exact=True).click()
        wait_until(page, lambda: "This is your run #1" in body(page) and "finished" in body(page), 120_000,
                   what="the run started before the view clicks")
        assert "gradients.view=Gradient+flow" in page.url and exceptions(page) == []
    finally:
        page.close()
