"""axe-core accessibility audit of a Playwright page (axe.min.js as bundled by the PyPI package
axe-playwright-python: nothing is downloaded at run time).

`audit(page)` injects axe once per document, runs it, and returns one `Finding` per element that
violates a rule of impact "serious" or "critical". `unexplained(findings)` drops those that the
allow-list ALLOWED explains: violations that come from Streamlit's own markup, which the app cannot
change. Anything else fails the audit, so a new violation is never silently accepted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from axe_playwright_python.base import AXE_SCRIPT

SEVERE = ("serious", "critical")


@dataclass(frozen=True)
class Finding:
    rule: str  # axe rule id, e.g. "color-contrast"
    impact: str
    target: str  # the element's CSS selector as axe reports it
    html: str  # the element's opening markup, shortened
    summary: str  # axe's message for this element
    within: str  # the Streamlit elements around it, innermost first: 'stWidgetLabel[disabled] < stSlider < ...'

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}) at {self.target}: {self.summary}\n      {self.html}\n      in {self.within}"


@dataclass(frozen=True)
class Allowed:
    """A violation that Streamlit's markup causes and the app cannot work around."""
    rule: str
    target: str  # a regular expression searched in the finding's target, html and `within`
    reason: str
    scheme: str | None = None  # only in this colour scheme ("light" or "dark"); None: in both

    def explains(self, finding: Finding, scheme: str) -> bool:
        return finding.rule == self.rule and self.scheme in (None, scheme) and any(
            re.search(self.target, text) for text in (finding.target, finding.html, finding.within))


ALLOWED: tuple[Allowed, ...] = (
    Allowed("color-contrast", r"stWidgetLabel\[disabled\]",
            "the label of a disabled widget (landscapes' 'Evaluation digits' in Toy surfaces): Streamlit greys it "
            "out by its own colour, and WCAG 1.4.3 exempts the text of an inactive control"),
    Allowed("color-contrast", r"stBaseButton-primary|stMultiSelectTagsContainer",
            "white on primaryColor in the dark theme, as Streamlit writes a primary button's label (Train) and a "
            "multiselect's chosen tags (activations' Method grid); "
            "the same primaryColor is the text of a selected segmented control (every lesson's View) on a 20% tint "
            "of itself over the dark background; no colour reaches 4.5 in both (best 4.3). The View wins",
            scheme="dark"),
)

# The data-testid of each element around a finding's element (with [disabled] when it has that attribute).
_WITHIN = """result => { for (const v of result.violations) for (const node of v.nodes) {
  const names = []; let el = null;
  try { el = document.querySelector(node.target[0]); } catch (error) { /* a selector into a shadow root */ }
  for (; el; el = el.parentElement) { const id = el.getAttribute('data-testid');
    if (id) names.push(id + (el.hasAttribute('disabled') ? '[disabled]' : '')); }
  node.within = names.join(' < '); } return result; }"""


def audit(page, rules: list[str] | None = None) -> list[Finding]:
    """Run axe-core on `page` (only `rules` when given) and return its serious and critical findings."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    options = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    result = page.evaluate(f"options => axe.run(document, options).then({_WITHIN})", options)
    findings = []
    for violation in result["violations"]:
        if violation["impact"] not in SEVERE:
            continue
        for node in violation["nodes"]:
            messages = [check["message"] for kind in ("any", "all", "none") for check in node.get(kind, [])]
            findings.append(Finding(violation["id"], violation["impact"], " ".join(map(str, node["target"])),
                                    node["html"][:200], "; ".join(messages)[:300], node.get("within", "")))
    return findings


def unexplained(findings: list[Finding], scheme: str = "light") -> list[Finding]:
    """The findings that no ALLOWED entry explains in the colour scheme `scheme`."""
    return [f for f in findings if not any(entry.explains(f, scheme) for entry in ALLOWED)]
