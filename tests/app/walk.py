"""Walk every control of a page in AppTest (issue #18): find the widgets the page drew, set each one
to each of its values in turn, and record what went wrong. The widgets are discovered, not listed, so
a control a lesson adds is walked without editing a test.

Values tried: every option of a select box, radio, segmented control, pills and select slider (the
first, the last and up to 6 between them for long lists); a slider and a number input at their two
ends and the middle; a toggle and a checkbox flipped; a text input empty and with script tags, emoji
and right-to-left text; a button clicked (a button that is disabled is skipped).

AppTest's own `select` needs the option's value, but the page only sends the options' labels (with a
format_func they differ), so `pick` sends the label, as the browser does.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import (
    Button, ButtonGroup, Checkbox, Multiselect, NumberInput, Radio, Selectbox, SelectSlider, Slider, TextArea,
    TextInput, Toggle, Widget)

MAX_OPTIONS = 8
TEXTS = ("", "<script>alert('x')</script> <b>bold</b> 😀 שלום עולם")


@dataclass(frozen=True)
class Change:
    """One value to give one widget: `apply(at)` sets it on the page tree of `at`."""
    key: str  # the widget's key, or its label when it has none
    kind: str
    value: Any
    label: str

    def __str__(self) -> str:
        return f"{self.kind} {self.label!r} = {self.value!r}"

    def apply(self, at: AppTest) -> bool:
        widget = find(at, self.key, self.kind)
        if widget is None or getattr(widget, "disabled", False):
            return False
        if self.kind == "button":
            widget.click()
        elif self.kind in ("selectbox", "radio", "button_group", "select_slider", "multiselect"):
            pick(widget, self.value)
        else:
            widget.set_value(self.value)
        return True


def pick(widget: Widget, label: str | list[str]) -> None:
    """Choose the option shown as `label` (a list for a multiselect), as the browser sends it."""
    state = WidgetState()
    state.id = widget.id
    if isinstance(widget, (Radio, Selectbox)):
        state.string_value = label
    else:
        state.string_array_value.data[:] = label if isinstance(label, list) else [label]
    widget._value = label  # marks the widget as changed, as Widget.set_value does
    widget.__class__ = type(type(widget).__name__, (type(widget),), {"_widget_state": property(lambda self: state)})


KINDS = {Selectbox: "selectbox", Radio: "radio", ButtonGroup: "button_group", SelectSlider: "select_slider",
         Multiselect: "multiselect", Slider: "slider", NumberInput: "number_input", Toggle: "toggle",
         Checkbox: "checkbox", TextInput: "text_input", TextArea: "text_area", Button: "button"}


def widgets(at: AppTest) -> Iterator[Widget]:
    for node in at._tree:
        if isinstance(node, tuple(KINDS)):
            yield node


def kind_of(widget: Widget) -> str:
    return next(name for cls, name in KINDS.items() if isinstance(widget, cls))


def name_of(widget: Widget) -> str:
    return widget.key or getattr(widget, "label", "") or widget.id


def find(at: AppTest, key: str, kind: str) -> Widget | None:
    return next((w for w in widgets(at) if name_of(w) == key and kind_of(w) == kind), None)


def _spread(options: list[str]) -> list[str]:
    if len(options) <= MAX_OPTIONS:
        return list(options)
    step = (len(options) - 1) / (MAX_OPTIONS - 1)
    return [options[round(i * step)] for i in range(MAX_OPTIONS)]


def changes(widget: Widget) -> list[Change]:
    """The values to try for this widget (its current value left out)."""
    kind, key, label = kind_of(widget), name_of(widget), getattr(widget, "label", "")
    make = lambda value: Change(key, kind, value, label)  # noqa: E731
    if kind == "button":
        return [] if widget.proto.disabled else [make(True)]
    if kind in ("toggle", "checkbox"):
        return [make(not widget.value)]
    if kind in ("text_input", "text_area"):
        return [make(text) for text in TEXTS if text != widget.value]
    if kind in ("selectbox", "radio", "button_group", "select_slider"):
        current = _current_labels(widget)
        return [make(option) for option in _spread(list(widget.options)) if [option] != current]
    if kind == "multiselect":
        return [make([]), make(list(widget.options[:1]))] if widget.options else []
    if kind == "slider":
        low, high = widget.proto.min, widget.proto.max
        values = [low, (low + high) / 2, high]
        if all(float(v).is_integer() for v in (low, high, widget.proto.step or 1)):
            values = [int(low), int((low + high) // 2), int(high)]
        else:
            step = widget.proto.step or 0.01
            values = [low, low + round((high - low) / 2 / step) * step, high]
        current = widget.value
        return [make(tuple([v, v]) if isinstance(current, (tuple, list)) else v) for v in values if v != current]
    if kind == "number_input":
        values = [v for v in (widget.proto.min if widget.proto.has_min else None,
                              widget.proto.max if widget.proto.has_max else None) if v is not None]
        if widget.proto.data_type == widget.proto.INT:
            values = [int(v) for v in values]
        return [make(v) for v in values if v != widget.value]
    return []


def restore(widget: Widget) -> Change | None:
    """The change that puts this widget back to its current value (None for a button)."""
    kind, key, label = kind_of(widget), name_of(widget), getattr(widget, "label", "")
    if kind == "button":
        return None
    if kind in ("selectbox", "radio", "button_group", "select_slider"):
        current = _current_labels(widget)
        if not current:
            return None
        return Change(key, kind, current[0], label)
    if kind == "multiselect":
        return Change(key, kind, list(widget.values), label)
    return Change(key, kind, widget.value, label)


def _current_labels(widget: Widget) -> list[str]:
    try:
        if isinstance(widget, ButtonGroup):
            return list(widget.formatted_values)
        if isinstance(widget, SelectSlider):
            value = widget.value
            return [str(widget.format_func(value))]
        return [widget.options[widget.index]] if widget.index is not None else []
    except (KeyError, ValueError, TypeError):
        return []


def problems(at: AppTest) -> list[str]:
    """What a student must never see: an exception, or a section that could not be drawn."""
    found = [f"exception: {e.value}"[:300] for e in at.exception]
    found += [f"error: {e.value}"[:300] for e in at.error if str(e.value).startswith("Could not")]
    return found


def open_lesson(slug: str, view: str | None = None, start: dict | None = None, timeout: int = 300) -> AppTest:
    """A lesson's page after its first run, on `view` (None: its default) with `start` values set."""
    at = AppTest.from_string(f"from lessons.registry import get; get({slug!r}).render()", default_timeout=timeout)
    if view is not None:
        at.session_state[f"{slug}.view"] = view
    for name, value in (start or {}).items():
        at.session_state[f"{slug}.{name}"] = value
    at.run()
    return at


def views_of(at: AppTest, slug: str) -> list[str | None]:
    """The options of the lesson's View picker on `at`; [None] for a lesson without one."""
    picker = [w for w in at.segmented_control if w.key == f"{slug}.view"]
    return list(picker[0].options) if picker else [None]
