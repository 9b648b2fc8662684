"""The loss-landscape lesson's controls in real Chromium, each asserted by its effect: live surfaces
(new directions, 3-D, four seeds, the CNN), every other view's controls going live, presenter mode,
Reset and share links whose values no longer exist."""
from tests.e2e.conftest import choose, exceptions, open_view, wait_for_run, wait_until

PICTURES = '[data-testid="stVegaLiteChart"], [data-testid="stPlotlyChart"], .stPlotlyChart'
PLOTLY = '[data-testid="stPlotlyChart"], .stPlotlyChart'
VEGA = '[data-testid="stVegaLiteChart"]'


def body(page) -> str:
    return page.locator("body").inner_text()


def settled(page, what: str, condition, timeout_ms: int = 180_000) -> None:
    wait_until(page, lambda: condition() and not page.locator('[data-testid="stSkeleton"]').count(),
               timeout_ms=timeout_ms, what=what)
    assert exceptions(page) == [], what
    assert "Could not" not in body(page), what


def pick(page, group: str, option: str) -> None:
    page.get_by_role("radiogroup", name=group).get_by_role("radio", name=option, exact=True).click()
    wait_for_run(page)


def step_slider(page, label: str, key: str = "ArrowRight") -> None:
    slider = page.locator('[data-testid="stSlider"]').filter(has_text=label).first.get_by_role("slider")
    slider.focus()
    slider.press(key)
    wait_for_run(page)


def test_the_surface_goes_live_with_new_directions_3d_four_seeds_and_the_cnn(open_page):
    page = open_page("landscapes")
    settled(page, "shipped", lambda: "Computed on the shipped surface" in body(page))
    choose(page, "Direction seed", "2")
    settled(page, "seed 2", lambda: "landscapes.seed=2" in page.url and "Computed on your live surface" in body(page))
    pick(page, "Plot", "3D surface")
    settled(page, "3-D", lambda: page.locator(PLOTLY).count() == 1 and "landscapes.plot=3D" in page.url)
    page.get_by_text("Compare 4 direction seeds", exact=True).click()
    wait_for_run(page)
    settled(page, "four seeds", lambda: "Across 4 direction seeds" in body(page) and page.locator(VEGA).count() >= 4)
    step_slider(page, "Range", "ArrowLeft")  # span 1.0 -> 0.5: a live surface and live small multiples
    settled(page, "span 0.5", lambda: "landscapes.span=0.5" in page.url and "(\u00b10.5)" in body(page)
            and "Computed on your live surface" in body(page))
    page = open_page("landscapes")
    step_slider(page, "Resolution", "ArrowLeft")
    step_slider(page, "Resolution", "ArrowLeft")  # 33 -> 17 -> 9: the CNN's live grid stays small
    settled(page, "9 x 9", lambda: "landscapes.resolution=9" in page.url and "Computed on your live surface" in body(page))
    choose(page, "Model", "Digits CNN with 2 conv blocks")
    settled(page, "the CNN", lambda: "(the trained Digits CNN with 2 conv blocks) the loss is" in body(page)
            and "landscapes.model=" in page.url and "Computed on your live surface" in body(page))


def test_every_other_view_goes_live_when_its_controls_change(open_page):
    page = open_page("landscapes")
    open_view(page, "landscapes", "Interpolation", PICTURES)
    settled(page, "shipped paths", lambda: "Computed on the shipped paths" in body(page))
    step_slider(page, "Beyond the ends")  # reach 0.5 -> 1.0
    settled(page, "reach 1", lambda: "landscapes.reach=1.0" in page.url and "Computed on your live paths" in body(page)
            and "at \u03b1 = -1 and" in body(page))
    open_view(page, "landscapes", "Slices", PICTURES)
    choose(page, "Direction seed", "1")
    settled(page, "slices seed 1", lambda: "landscapes.slice_seed=1" in page.url
            and "Computed on your live slices" in body(page) and page.locator(VEGA).count() >= 4)
    open_view(page, "landscapes", "Comparisons", PICTURES)
    settled(page, "skips", lambda: "Near the trained weights" in body(page) and "the shipped surfaces" in body(page))
    choose(page, "Direction seed", "1")
    settled(page, "skips seed 1", lambda: "landscapes.cmp_seed=1" in page.url and "your live surfaces" in body(page))
    pick(page, "Compare", "Batch size")
    settled(page, "batch", lambda: "Sharpness, the mean rise of the loss" in body(page))
    pick(page, "Compare", "Optimizer")
    settled(page, "optimizers", lambda: "SGD (lr 0.1): path length" in body(page) and page.locator(VEGA).count() >= 2)
    open_view(page, "landscapes", "Toy surfaces", PICTURES)
    pick(page, "Surface", "Saddle")
    settled(page, "saddle", lambda: "Near the saddle the gradient along y is tiny" in body(page))
    step_slider(page, "Steps")
    settled(page, "70 steps", lambda: "landscapes.toy_steps=70" in page.url and "70 steps.)" in body(page))
    open_view(page, "landscapes", "Trajectory", PICTURES)
    choose(page, "Optimizer", "SGD (lr 0.1)")
    settled(page, "sgd", lambda: "of SGD (lr 0.1)" in body(page) and "the shipped trajectory" in body(page))
    choose(page, "Training seed", "1")
    settled(page, "seed 1 trains live", lambda: "landscapes.traj_seed=1" in page.url
            and "your live trajectory" in body(page), timeout_ms=300_000)


def test_presenter_mode_reset_and_share_links_whose_values_no_longer_exist(open_page):
    stale = ("landscapes?landscapes.view=Nope&landscapes.seed=42&landscapes.span=3.0&landscapes.resolution=7"
             "&landscapes.model=resnet&landscapes.samples=77&landscapes.plot=Wireframe")
    page = open_page(stale)
    settled(page, "stale surface link", lambda: "Computed on the shipped surface" in body(page)
            and "(the trained Digits MLP 784-32-16-10) the loss is" in body(page) and page.locator(VEGA).count() >= 1)
    page = open_page("landscapes?landscapes.view=Comparisons&landscapes.comparison=Depth&landscapes.cmp_seed=77"
                     "&landscapes.toy_surface=volcano")
    settled(page, "stale comparison link", lambda: "Near the trained weights" in body(page)
            and "the shipped surfaces" in body(page))
    page.get_by_text("Presenter mode", exact=True).click()
    wait_for_run(page)
    settled(page, "presenter", lambda: "Check yourself" not in body(page) and page.locator(VEGA).count() >= 2)
    pick(page, "Compare", "Batch size")
    settled(page, "presenter batch", lambda: "Sharpness, the mean rise" in body(page))
    page.get_by_text("Presenter mode", exact=True).click()
    wait_for_run(page)
    settled(page, "presenter off", lambda: "Check yourself" in body(page))
    page.get_by_role("button", name="Reset").click()
    wait_for_run(page)
    settled(page, "reset", lambda: "Computed on the shipped surface" in body(page) and "landscapes.view" not in page.url
            and "landscapes.comparison" not in page.url)
