"""The loss-landscape lesson's controls in real Chromium, each asserted by its effect: live surfaces
(new directions, 3-D, four seeds, the CNN), every other view's controls going live, the toy surfaces'
known answers, the trajectory's resolution, the optimizer comparison on other digits, presenter mode,
Reset back to every default, the Share popover's link, and share links whose values no longer exist."""
from urllib.parse import parse_qs, urlsplit


from tests.e2e.conftest import choose, exceptions, open_view, share_popover_link, wait_for_run, wait_until

PICTURES = '[data-testid="stVegaLiteChart"], [data-testid="stPlotlyChart"], .stPlotlyChart'
PLOTLY = '[data-testid="stPlotlyChart"], .stPlotlyChart'
VEGA = '[data-testid="stVegaLiteChart"]'


def body(page) -> str:
    return page.locator("body").inner_text()


def settled(page, what: str, condition, timeout_ms: int = 180_000) -> None:
    try:
        wait_until(page, lambda: condition() and not page.locator('[data-testid="stSkeleton"]').count(),
                   timeout_ms=timeout_ms, what=what)
    except AssertionError as error:
        raise AssertionError(f"{error} (address bar {page.url})") from None
    assert exceptions(page) == [], what
    assert "Could not" not in body(page), what


def pick(page, group: str, option: str) -> None:
    page.get_by_role("radiogroup", name=group).get_by_role("radio", name=option, exact=True).click()
    wait_for_run(page)


def params(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


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


def test_the_toy_surfaces_give_their_known_answers_as_the_learning_rate_changes(open_page):
    page = open_page("landscapes?landscapes.view=Toy+surfaces")
    settled(page, "toy ravine", lambda: page.locator(PLOTLY).count() == 1 and "(Learning rate 0.1, 60 steps.)" in body(page))
    pick(page, "Surface", "Plateau")
    # Adam's first step is the learning rate times sqrt(2) on any surface: 0.141 at 0.1, 0.424 at 0.3
    settled(page, "plateau", lambda: params(page).get("landscapes.toy_surface") == ["Plateau"]
            and "On the plateau the gradient is almost zero" in body(page) and "first step is 0.141 long" in body(page))
    step_slider(page, "Learning rate")  # 0.1 -> 0.3
    settled(page, "lr 0.3", lambda: params(page).get("landscapes.toy_lr") == ["0.3"]
            and "first step is 0.424 long" in body(page) and "(Learning rate 0.3, 60 steps.)" in body(page))
    pick(page, "Surface", "Ravine")
    settled(page, "ravine at 0.3", lambda: "landscapes.toy_surface" not in params(page)
            and "SGD zig-zags across the steep direction" in body(page))
    step_slider(page, "Learning rate")
    step_slider(page, "Learning rate")  # 0.3 -> 0.45 -> 1: above 2 / curvature 4, SGD's steps across grow
    settled(page, "lr 1", lambda: params(page).get("landscapes.toy_lr") == ["1"]
            and "SGD's loss grows instead of falling" in body(page) and "SGD: moved" in body(page)
            and "diverged after" in body(page) and page.locator(PLOTLY).count() == 1)


def test_the_trajectory_goes_live_at_another_resolution_and_on_other_digits(open_page):
    page = open_page("landscapes?landscapes.view=Trajectory")
    settled(page, "shipped trajectory", lambda: "the shipped trajectory" in body(page)
            and "of Adam (lr 0.002)" in body(page) and page.locator(VEGA).count() == 1)
    step_slider(page, "Resolution", "ArrowLeft")  # 25 x 25 -> 13 x 13
    settled(page, "13 x 13", lambda: params(page).get("landscapes.traj_resolution") == ["13 x 13"]
            and "your live trajectory" in body(page) and "The first two principal components explain" in body(page)
            and page.locator(VEGA).count() == 1, timeout_ms=300_000)
    step_slider(page, "Evaluation digits", "ArrowLeft")  # 500 -> 250
    settled(page, "250 digits", lambda: params(page).get("landscapes.samples") == ["250"]
            and "your live trajectory" in body(page) and page.locator(VEGA).count() == 1, timeout_ms=300_000)


def test_the_optimizer_comparison_shows_both_paths_and_goes_live_on_other_digits(open_page):
    page = open_page("landscapes?landscapes.view=Comparisons&landscapes.comparison=Optimizer")
    settled(page, "shipped optimizers", lambda: "SGD (lr 0.1): path length" in body(page)
            and "Adam (lr 0.002): path length" in body(page)
            and body(page).count("Computed on the shipped trajectory") == 2 and page.locator(VEGA).count() == 2)
    step_slider(page, "Evaluation digits")  # 500 -> 1000: both planes evaluated live
    settled(page, "1000 digits", lambda: params(page).get("landscapes.samples") == ["1000"]
            and body(page).count("Computed on your live trajectory") == 2 and "Adam (lr 0.002): path length" in body(page)
            and page.locator(VEGA).count() == 2, timeout_ms=300_000)


def test_the_slices_range_and_the_interpolation_digits_change_the_sentences(open_page):
    page = open_page("landscapes?landscapes.view=Slices")
    settled(page, "shipped slices", lambda: "At \u03b1 = 1 the loss is" in body(page) and page.locator(VEGA).count() >= 4)
    step_slider(page, "Range", "ArrowLeft")  # 1.0 -> 0.5
    settled(page, "span 0.5", lambda: params(page).get("landscapes.slice_span") == ["0.5"]
            and "At \u03b1 = 0.5 the loss is" in body(page) and "your live slices" in body(page))
    # After a switch of view: "Evaluation digits" is one control beside the view picker. Drawn inside each
    # view it stopped writing to the address bar after a switch (the browser dropped its URL binding).
    open_view(page, "landscapes", "Interpolation", PICTURES)
    settled(page, "interpolation", lambda: "landscapes.view=Interpolation" in page.url and "the loss on" in body(page))
    step_slider(page, "Evaluation digits")  # 500 -> 1000, the same control in every view
    settled(page, "1000 digits", lambda: params(page).get("landscapes.samples") == ["1000"]
            and "the loss on 1000 training digits goes from" in body(page) and "your live paths" in body(page))


def test_the_share_popover_link_is_the_address_after_a_view_control_changes(open_page):
    page = open_page("landscapes?landscapes.view=Slices")
    settled(page, "slices", lambda: page.locator(VEGA).count() >= 4)
    choose(page, "Direction seed", "3")
    settled(page, "seed 3", lambda: params(page).get("landscapes.slice_seed") == ["3"] and "your live slices" in body(page))
    link = share_popover_link(page)
    assert link == page.url
    assert parse_qs(urlsplit(link).query) == {"landscapes.view": ["Slices"], "landscapes.slice_seed": ["3"]}


def test_the_share_popover_link_is_the_address_after_a_view_change(open_page):
    """The popover is drawn before the run ends, when Streamlit drops the last view's controls from the
    URL: it showed the Slices view's seed after a switch to Trajectory, the address bar did not."""
    page = open_page("landscapes?landscapes.view=Slices")
    settled(page, "slices", lambda: page.locator(VEGA).count() >= 4)
    choose(page, "Direction seed", "3")
    settled(page, "seed 3", lambda: params(page).get("landscapes.slice_seed") == ["3"] and "your live slices" in body(page))
    open_view(page, "landscapes", "Trajectory", PICTURES)
    settled(page, "trajectory", lambda: "landscapes.slice_seed" not in page.url and "shipped trajectory" in body(page))
    link = share_popover_link(page)
    assert parse_qs(urlsplit(link).query) == params(page) == {"landscapes.view": ["Trajectory"]}, link


def test_reset_puts_every_view_back_to_its_defaults(open_page):
    page = open_page("landscapes")
    page.get_by_text("Log scale", exact=True).click()
    wait_for_run(page)
    step_slider(page, "Evaluation digits", "ArrowLeft")  # 500 -> 250
    settled(page, "log, 250", lambda: params(page).get("landscapes.log_scale") == ["true"]
            and "on 250 training digits" in body(page) and "your live surface" in body(page))
    open_view(page, "landscapes", "Toy surfaces", PICTURES)
    pick(page, "Surface", "Plateau")
    step_slider(page, "Learning rate")  # 0.1 -> 0.3
    settled(page, "plateau at 0.3", lambda: "On the plateau" in body(page) and "(Learning rate 0.3, 60 steps.)" in body(page))
    page.get_by_role("button", name="Reset", exact=True).click()  # not Plotly's "Reset axes"
    wait_for_run(page)
    settled(page, "reset", lambda: not [k for k in params(page) if k.startswith("landscapes.")]
            and "Computed on the shipped surface" in body(page) and "on 500 training digits" in body(page))
    assert page.get_by_role("switch", name="Log scale").is_checked() is False
    open_view(page, "landscapes", "Toy surfaces", PICTURES)
    settled(page, "toy defaults", lambda: "(Learning rate 0.1, 60 steps.)" in body(page)
            and "On the plateau" not in body(page) and "along the shallow direction" in body(page))


def test_reset_also_drops_a_links_values_for_controls_another_view_draws(open_page):
    page = open_page("landscapes?landscapes.view=Toy+surfaces&landscapes.log_scale=true&landscapes.samples=250")
    settled(page, "toy", lambda: page.locator(PLOTLY).count() == 1)
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_for_run(page)
    settled(page, "reset", lambda: "Computed on" in body(page) and "At the centre" in body(page))
    assert not [k for k in params(page) if k.startswith("landscapes.")], page.url
    assert "on 500 training digits" in body(page)
