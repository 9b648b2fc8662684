"""The lesson scaffold every page uses (DESIGN.md, "The lesson scaffold").

A page builds a `LessonPage`, then calls, in order: `header`, its controls through `control`,
its charts through `chart`, `what_you_see`, `try_this`, `quiz`, `do_it_yourself`, `reading`.
A lesson with several views draws the chosen one with `view_fragment`: a control of that view then
reruns only the view and its "What you see".
Controls are keyed "<slug>.<name>" and bound to the URL, so the address bar is always a share
link that reproduces the page. Presenter mode (a sidebar toggle, `?presenter=true`) hides the
prose and enlarges the charts; "Reset" puts every control back to its default.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAPIException

from lessons import course_path, warmup
from lessons.callbacks import in_callback, runs_whole

PRESENTER_KEY = "presenter"
_log = logging.getLogger("lessons")


@contextmanager
def shown_failure(what: str) -> Iterator[None]:
    """Run one section's computation; if it raises, show a short message in that section.

    `what` completes "Could not ..." (for example "draw the Grad-CAM map"). The traceback goes
    to the server log, the student sees a plain sentence, and the rest of the page keeps
    working: never Streamlit's page-wide "This app has encountered an error". Streamlit's own
    control flow (st.rerun, st.stop) derives from BaseException and passes through.
    """
    try:
        yield
    except Exception as error:  # noqa: BLE001 - one failing section must not take the page down
        _log.exception("section failed: %s", what)
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        st.error(f"Could not {what}. The rest of the page still works: change a control or press "
                 f"Reset. (Reason: {reason})", icon=":material/error:")


@dataclass(frozen=True)
class QuizQuestion:
    prompt: str
    options: tuple[str, ...]
    answer: int  # index into options
    explanation: str  # shown after any answer, right or wrong


@dataclass(frozen=True)
class Experiment:
    """A guided "Try this": a preset for the controls, a prediction, and a check on the result.

    `check(result)` returns (the expected effect appeared on this run, a sentence with the numbers).
    It receives whatever the page passes to `try_this` (None before anything has run).
    """

    key: str
    title: str
    setup: Mapping[str, Any]  # control name (without the slug) -> value
    question: str
    predictions: tuple[str, ...]
    expected: int  # index of the prediction the effect confirms
    check: Callable[[Any], tuple[bool, str]]


@dataclass(frozen=True)
class Reading:
    title: str
    url: str
    note: str = ""


def presenter_mode() -> bool:
    return bool(st.session_state.get(PRESENTER_KEY, False))


def presenter_toggle() -> None:
    """The sidebar switch the router draws on every page; `?presenter=true` turns it on."""
    st.sidebar.toggle("Presenter mode", key=PRESENTER_KEY, bind="query-params",
                      help="Large charts, prose hidden: for showing a lesson to a class.")
    if presenter_mode():
        st.html("<style>.stMainBlockContainer{max-width:100%;font-size:1.25rem}"
                " h1{font-size:2.6rem!important}</style>")


_BY_INDEX = {"selectbox", "radio"}  # widgets whose default is the index of an option
_BY_DEFAULT = {"tabs", "segmented_control", "pills", "multiselect"}  # default= takes the option itself


def _widget_default(widget: Callable[..., Any], default: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    kind = getattr(widget, "__name__", "")
    if kind in ("multiselect", "pills") and isinstance(default, (list, tuple)):
        return {} if "default" in kwargs else {"default": list(default)}
    if kind in _BY_INDEX or kind in _BY_DEFAULT:
        # options that depend on other controls may not contain the lesson default: use the first
        position = 0 if kind == "tabs" else 1  # st.tabs(labels); the others (label, options)
        options = list(kwargs["options"] if "options" in kwargs else args[position] if len(args) > position else ())
        fallback = default if default in options or not options else options[0]
        if kind in _BY_INDEX:
            return {} if "index" in kwargs else {"index": options.index(fallback) if options else 0}
        return {} if "default" in kwargs else {"default": fallback}
    return {} if "value" in kwargs else {"value": default}


def _names_value(asked: list[str], value: Any, kwargs: dict) -> bool:
    """Whether the link's text is one way of writing `value` (a hand-written link may name the default)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    format_func = kwargs.get("format_func") or str
    written = {str(v).lower() for v in values} | {str(format_func(v)).lower() for v in values}
    return {a.lower() for a in asked} <= written


def _quoted(asked: list[str]) -> str:
    """The link's value as plain, short text: it comes from the address bar, so no markdown survives."""
    text = re.sub(r"[^\w .,+-]", "?", ", ".join(asked))
    return f"“{text[:40]}{'...' if len(text) > 40 else ''}”"


@dataclass
class LessonPage:
    slug: str
    title: str
    defaults: Mapping[str, Any]  # control name -> default value; these are the shareable controls
    shared: set[str] = field(default_factory=set)
    _drawn: set[str] = field(default_factory=set, init=False, repr=False)  # URL-bound controls drawn so far
    _in_view: bool = field(default=False, init=False, repr=False)  # inside view_fragment's draw

    # ----- state -------------------------------------------------------------------------------
    @property
    def _light_first_render(self) -> bool:
        from lessons import registry

        try:
            return registry.get(self.slug).light_first_render
        except KeyError:  # a page outside the course (the scaffold test page)
            return True

    def go_live(self, up_to: str | None = None) -> None:
        """Wait for this lesson's warm-up (imports, models) before its first live computation; with
        `up_to`, only for its steps up to that one (see warmup.wait).

        A lesson whose first render draws shipped results calls this when the student leaves them.
        """
        warmup.wait(self.slug, up_to)

    def key(self, name: str) -> str:
        return f"{self.slug}.{name}"

    def at_defaults(self, names: Sequence[str] | None = None) -> bool:
        """Whether these controls (all shareable ones by default) hold the lesson's defaults: then a
        page may draw results shipped in the repository instead of computing them (call it after
        drawing the controls)."""
        return all(self.value(name) == self.defaults[name] for name in (names or self.defaults))

    def value(self, name: str) -> Any:
        return st.session_state.get(self.key(name), self.defaults.get(name))

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Set controls before their widgets are drawn: from a widget callback (Reset, a preset), or
        from the script body (a value that the current model does not offer falls back).

        In a callback: a share link's value for a control this view does not draw stays in the address
        bar (no widget is bound to it), and Streamlit seeds a bound widget's first draw from the URL
        over the session state: the next view would show the link's value, not this one. Such
        parameters are dropped, and the run starts again from the cleaned address (a callback's
        st.rerun). A drawn widget cannot lose its parameter here; it writes its new value to the URL
        itself. In the script body the link is left alone: the widget drops a value it does not offer,
        and `control` tells the student so."""
        for name, value in values.items():
            st.session_state[self.key(name)] = value
        if not in_callback():
            return
        dropped = False
        for key in [self.key(name) for name in values if self.key(name) in st.query_params]:
            try:
                del st.query_params[key]
                dropped = True
            except StreamlitAPIException:  # bound to a widget drawn in the last run
                pass
        if dropped:
            st.rerun()

    @runs_whole
    def reset(self) -> None:
        for state_key in [k for k in st.session_state if str(k).startswith(f"{self.slug}._")]:
            del st.session_state[state_key]
        self.set_values(self.defaults)  # last: it may end the callback with st.rerun()

    def control(self, widget: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> Any:
        """Draw a widget keyed "<slug>.<name>"; names in `defaults` are bound to the URL.

        The lesson's default is handed to the widget as its own default (value=, index= or
        default=): a bound widget leaves its default out of the URL and reads a missing parameter
        as that default, so both must agree for every share link to reproduce the page.
        """
        if not self._light_first_render:  # fragment reruns skip the router: every control waits too
            warmup.wait(self.slug)
        if name not in self.defaults:
            return widget(*args, key=self.key(name), **kwargs)
        kwargs.setdefault("bind", "query-params")
        kwargs.update(_widget_default(widget, self.defaults[name], args, kwargs))
        self._drawn.add(name)
        if self._in_view:
            st.session_state.setdefault(self._view_controls_key, set()).add(name)
        asked = st.query_params.get_all(self.key(name))
        value = widget(*args, key=self.key(name), **kwargs)
        # Streamlit drops a link's value that the widget does not offer (and one equal to the default)
        if asked and not st.query_params.get_all(self.key(name)) and not _names_value(asked, value, kwargs):
            label = args[0] if args else kwargs.get("label", name)
            st.warning(f"This link asked for {label} {_quoted(asked)}, which the page no longer offers: "
                       "showing the default instead.", icon=":material/link_off:")
        return value

    @property
    def _view_controls_key(self) -> str:
        return f"{self.slug}._view_controls"

    def share_url(self) -> str:
        """The address with every URL-bound control, as it will be when this run ends: a control that
        some view drew and this run has not (the view before a view change) loses its parameter when
        the run ends, so it is left out here too; controls drawn after the link, outside any view, stay."""
        dropped = {self.key(n) for n in st.session_state.get(self._view_controls_key, set()) - self._drawn}
        query = {k: st.query_params.get_all(k) for k in st.query_params if k not in dropped}
        base = (st.context.url or "").split("?")[0].rstrip("/")  # None outside a browser session
        if not base.endswith("/" + self.slug):
            base = f"{base}/{self.slug}"
        return f"{base}?{urlencode(query, doseq=True)}" if query else base

    def draw_share_link(self) -> None:
        """The header's Share popover (the link with every URL-bound control), drawn into its slot.

        A fragment holding URL-bound controls calls this at its end on every run, full and fragment
        reruns: Streamlit lets a fragment rerun write outside itself only where the fragment wrote in the
        last full run, and the fragment's rerun leaves the header alone, so only the fragment can bring
        the link up to date. The slot gets ONE writer per run: in the full run the header leaves it
        empty and a page without such a fragment has it drawn by `_share_link_fallback`. (Two writers
        crash the browser: the script's popover and the fragment's wrapper of it share delta paths,
        Streamlit's message queue merges the fragment's popover into the earlier popover's caption
        message, ahead of the wrapper block that then replaces the slot, and the page goes blank with
        "Cannot set a node at a delta path"; it happens whenever both land in one flush, on a warm server.)
        """
        slot = getattr(self, "_share_slot", None)
        if slot is None:  # a page drawn without the header
            return
        self._share_drawn = True
        with slot.popover("Share", icon=":material/link:", width="stretch"):
            st.caption("This link opens the page with the controls exactly as they are now.")
            st.code(self.share_url(), language=None, wrap_lines=True)

    def _share_link_fallback(self) -> None:
        """Draw the Share popover from the script if no fragment has drawn it in this run (every page
        calls a section after its view; the first one to run draws it)."""
        if not getattr(self, "_share_drawn", True):
            self.draw_share_link()

    # ----- scaffold sections -------------------------------------------------------------------
    def header(self, why: str, objectives: Sequence[str], phases: Sequence[str] = ()) -> None:
        title_col, tools_col = st.columns([5, 2], vertical_alignment="bottom")
        title_col.title(self.title)
        with tools_col:
            left, right = st.columns(2)
            left.button("Reset", key=f"{self.slug}._reset_button", on_click=self.reset,
                        icon=":material/restart_alt:", help="Every control back to its default",
                        width="stretch")
            # Filled later in the run, by one writer only (draw_share_link): the fragment holding the view's
            # controls if there is one, else the first scaffold section after the view (_share_link_fallback).
            self._share_slot = right.empty()
            self._share_drawn = False
        if phases:
            st.caption(" · ".join(phases))
        if presenter_mode():
            return
        st.markdown(why)
        st.markdown("**In this lesson you will**\n" + "\n".join(f"- {o}" for o in objectives))

    def chart(self, figure: Any, caption: str, key: str | None = None) -> None:
        """Show an Altair or Plotly figure, a Vega-Lite spec (dict), a (spec, DataFrame) pair, or DOT
        text, with its caption. A spec written directly skips Altair's validation; with a DataFrame
        beside it the data travels as Arrow, so an unchanged spec lets the browser update the data of
        the chart it already shows (the streaming charts of training and gradients)."""
        if isinstance(figure, str):
            st.graphviz_chart(figure, width="stretch")
        elif isinstance(figure, dict):
            st.vega_lite_chart(figure, key=key, width="stretch")
        elif isinstance(figure, tuple):  # (spec, data)
            spec, data = figure
            st.vega_lite_chart(data, spec, key=key, width="stretch")
        elif type(figure).__module__.startswith("plotly"):
            st.plotly_chart(figure, key=key, width="stretch")
        else:
            st.altair_chart(figure, key=key, width="stretch")
        st.caption(caption)

    def chart_height(self, height: int) -> int:
        return int(height * 1.5) if presenter_mode() else height

    def view_fragment(self, view: str, draw: Callable[..., Sequence[str] | None], result: dict,
                      args: tuple = ()) -> None:
        """Draw one view and its "What you see" in a fragment, so that the view's own controls rerun
        only this part of the page (the header, try-this cards, quiz and code are not sent again).

        `draw(page, *args, result)` draws the view and returns its sentences, or leaves them in
        `result["sentences"]`. If it raises, the view shows "Could not draw the <view> view" and the
        page around it is drawn as usual; `result["failed"]` tells the try-this cards.
        """
        st.session_state[self._full_run_key] = True  # read by the fragment: this run draws the whole page
        _view_fragment(self, view, draw, args, result)

    @property
    def _full_run_key(self) -> str:
        return f"{self.slug}._full_run"

    def what_you_see(self, sentences: Sequence[str]) -> None:
        """Text computed from the current result: numbers, not boilerplate."""
        st.subheader("What you see")
        st.markdown("\n".join(f"- {s}" for s in sentences))

    def try_this(self, experiments: Sequence[Experiment], result: Any) -> None:
        self._share_link_fallback()
        st.subheader("Try this")
        if not presenter_mode():
            st.caption("Pick what you expect, set up the experiment, and the page checks this run.")
        active = st.session_state.get(f"{self.slug}._experiment")
        for exp in experiments:
            with st.container(border=True):
                stop = "" if exp.title[-1:] in ".?!" else "."
                st.markdown(f"**{exp.title}{stop}** {exp.question}")
                guess = st.radio("Your prediction", exp.predictions, index=None, horizontal=True,
                                 key=f"{self.slug}._predict.{exp.key}")
                st.button("Set up this experiment", key=f"{self.slug}._setup.{exp.key}",
                          on_click=self._start_experiment, args=(exp,), disabled=guess is None,
                          help=None if guess is not None else "Make a prediction first")
                if active == exp.key:
                    self._report_experiment(exp, guess, result)

    @runs_whole
    def _start_experiment(self, exp: Experiment) -> None:
        self.set_values(exp.setup)
        st.session_state[f"{self.slug}._experiment"] = exp.key

    def _report_experiment(self, exp: Experiment, guess: str | None, result: Any) -> None:
        changed = [n for n, v in exp.setup.items() if self.value(n) != v]
        if changed:
            st.info("You changed " + ", ".join(changed) + " since setting up this experiment: "
                    "press the button again to check it.")
            return
        if result is None:
            st.info("Run the experiment above (the page says how), then come back here.")
            return
        appeared, message = exp.check(result)
        verdict = st.success if appeared else st.warning
        verdict(("The expected effect appeared on this run. " if appeared
                 else "The expected effect did not appear on this run. ") + message)
        if guess is not None:
            right = exp.predictions.index(guess) == exp.expected
            st.markdown(("Your prediction matched." if right else
                         f"You predicted \u201c{guess}\u201d; the lesson expected "
                         f"\u201c{exp.predictions[exp.expected]}\u201d.") +
                        ("" if appeared or not right else " (This run did not show it: see above.)"))

    def quiz(self, questions: Sequence[QuizQuestion]) -> None:
        self._share_link_fallback()
        if presenter_mode():
            return
        st.subheader("Check yourself")
        for i, q in enumerate(questions):
            choice = st.radio(q.prompt, q.options, index=None, key=f"{self.slug}._quiz.{i}")
            if choice is None:
                continue
            course_path.record_answer(self.slug, i, q.options.index(choice) == q.answer)
            if q.options.index(choice) == q.answer:
                st.success("Right. " + q.explanation)
            else:
                st.error("Not quite. " + q.explanation)

    def do_it_yourself(self, script: str | Path, intro: str) -> None:
        """Show a standalone script (which a test runs) that reproduces the page's picture, and offer it
        as a Jupyter notebook (lessons/notebooks.py: the lesson's texts, then the script cut at its `# %%` markers)."""
        self._share_link_fallback()
        if presenter_mode():
            return
        st.subheader("Do it yourself")
        st.markdown(intro)
        # wrap_lines: a block that scrolls sideways is a scrollable region a keyboard cannot reach (axe);
        # no line numbers: Streamlit greys them to a contrast of 3.4 in the dark theme (WCAG asks 4.5)
        st.code(Path(script).read_text(), language="python", wrap_lines=True)
        from lessons import notebooks

        st.download_button("Download as a Jupyter notebook", notebooks.notebook_json(self.slug, str(script)),
                           file_name=f"{self.slug}.ipynb", mime="application/x-ipynb+json", on_click="ignore",
                           icon=":material/download:", key=f"{self.slug}._notebook")

    def reading(self, items: Sequence[Reading]) -> None:
        self._share_link_fallback()
        if presenter_mode():
            return
        st.subheader("Further reading")
        st.markdown("\n".join(f"- [{r.title}]({r.url})" + (f": {r.note}" if r.note else "")
                              for r in items))


VIEW_FAILED = "Nothing to show: this view's computation failed (the message above says why)."


@st.fragment
def _view_fragment(page: LessonPage, view: str, draw: Callable[..., Sequence[str] | None], args: tuple,
                   result: dict) -> None:
    result.pop("failed", None)
    result.pop("sentences", None)
    sentences: Sequence[str] | None = None
    failed = True
    label = view if view.lower().endswith("view") else f"{view} view"
    page._in_view = True  # the view's own controls: share_url leaves them out once another view shows
    try:
        with shown_failure(f"draw the {label}"):
            sentences = draw(page, *args, result)
            failed = False
    finally:
        page._in_view = False
    if failed:
        result["failed"] = True
        sentences = [VIEW_FAILED]
    elif sentences is None:
        sentences = result.get("sentences") or []
    page.what_you_see(sentences or ["Nothing to describe: the view could not be drawn."])
    page.draw_share_link()  # the view's controls may have changed the URL: the header's link follows
    whole_page = st.session_state.pop(page._full_run_key, False)
    if not whole_page and st.session_state.get(f"{page.slug}._experiment"):
        st.rerun(scope="app")  # an experiment card below checks this result: redraw it too
