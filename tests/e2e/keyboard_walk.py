"""Issue #20: every control is reachable with the keyboard. `unreached(page)` lists the page's visible,
enabled controls that pressing Tab from the top of the page never focuses.

A group whose options share one tab stop (st.radio's options, st.segmented_control's and st.pills'
buttons, st.tabs' tabs: arrow keys move inside them, as WAI-ARIA's radio group pattern says) counts as
reached when any of its members gets focus. Elements Streamlit takes out of the tab order on purpose
(tabindex -1: a select box's "Open" arrow, a number input's +/- buttons, which the field's arrow keys
replace) are not controls of their own. Neither are Streamlit's pointer-only buttons, hidden
(visibility: hidden) until the mouse hovers: the sidebar's "Collapse sidebar" and a code block's "Copy
to clipboard" (a keyboard user selects the code, or downloads the lesson's notebook).
"""
from __future__ import annotations

# Marks every control with data-kb="<its group's key>" and returns {key: label}.
MARK_CONTROLS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const selector = 'button, a[href], input, textarea, select, summary, [role="slider"], [role="combobox"], [role="tab"]';
  // a view's elements that React kept from the view before still carry that view's marks
  for (const el of document.querySelectorAll('[data-kb]')) delete el.dataset.kb;
  const controls = {};
  let n = 0;
  for (const el of app.querySelectorAll(selector)) {
    if (el.disabled || el.getAttribute('aria-disabled') === 'true' || el.tabIndex < 0 && !el.matches('input[type=radio], [role=radio], [role=tab]')) continue;
    if (el.closest('[aria-hidden="true"], [inert], details:not([open]) > :not(summary)')) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;  // shown only under the mouse pointer
    const box = (el.matches('input[type=radio], input[type=checkbox]') ? el.closest('label') || el : el).getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const group = el.closest('[role="radiogroup"], [role="tablist"], [data-testid="stButtonGroup"]');
    if (!group && el.tabIndex < 0) continue;
    const owner = group || el;
    if (!owner.dataset.kb) owner.dataset.kb = 'c' + (n++);
    el.dataset.kb = owner.dataset.kb;
    const widget = el.closest('[data-testid^="st"]');
    const label = (owner.getAttribute('aria-label') || (group ? group.innerText : el.innerText) || el.value || '')
      .replace(/\\s+/g, ' ').trim().slice(0, 50);
    controls[owner.dataset.kb] = `${widget ? widget.dataset.testid : el.tagName}: ${label}`;
  }
  return controls;
}"""
# Records the group key of every control that receives focus, in order (focusin bubbles; focus does not).
RECORD_FOCUS = """() => { window.__kbFocused = [];
  if (!window.__kbListening) { window.__kbListening = true;
    document.addEventListener('focusin', e => { if (e.target.dataset && e.target.dataset.kb)
      window.__kbFocused.push(e.target.dataset.kb); }, true); } }"""
BATCH = 8  # Tab presses between two looks at what was focused


def unreached(page, extra_presses: int = 40) -> list[str]:
    """The labels of the controls Tab never reached, starting from the top of the page. Stops as soon
    as every control has been reached, or when focus comes back round to the first control reached.
    (Tab is pressed in batches and each focus is recorded as it happens: a look after every press cost
    a round trip to the browser each.)"""
    controls = page.evaluate(MARK_CONTROLS)
    page.evaluate(RECORD_FOCUS)
    # Start where a student's first Tab lands: the first element of the page's tab order.
    first = page.evaluate("""() => { const el = [...document.querySelectorAll('[data-kb]')]
      .find(e => e.tabIndex >= 0 && !e.matches('[role=radiogroup], [role=tablist], [data-testid=stButtonGroup]'));
      el.focus(); window.__kbFocused = []; return el.dataset.kb; }""")
    reached, pressed, done = {first}, 0, False
    while pressed < len(controls) + extra_presses and not done:
        for _ in range(BATCH):
            page.keyboard.press("Tab")
        pressed += BATCH
        for key in page.evaluate("() => window.__kbFocused.splice(0)"):
            if key == first:
                done = True  # round the page once
                break
            reached.add(key)
        done = done or reached >= controls.keys()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    return sorted(label for key, label in controls.items() if key not in reached)
