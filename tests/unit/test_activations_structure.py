"""The activation-heatmap lesson's imports run one way: page -> views -> controls (the shared helpers),
with the text in content.py; nothing but the router imports page.py, and the text imports no streamlit."""
from __future__ import annotations

import ast
from pathlib import Path

import lessons.activations

PACKAGE = Path(lessons.activations.__file__).parent


def lesson_imports(name: str) -> set[str]:
    """The lesson's own modules `name`.py imports (anywhere in the file), and 'streamlit' if it does."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "lessons.activations":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("lessons.activations."):
                found.add(node.module.rsplit(".", 1)[1])
            elif node.module.split(".")[0] == "streamlit":
                found.add("streamlit")
        elif isinstance(node, ast.Import):
            found |= {"streamlit" for alias in node.names if alias.name.split(".")[0] == "streamlit"}
    return found


def test_no_module_but_the_router_imports_the_page():
    for path in PACKAGE.glob("*.py"):
        assert "page" not in lesson_imports(path.stem), path.name


def test_imports_run_one_way():
    assert {"views", "views_checks", "controls", "content"} <= lesson_imports("page")
    for view in ("views", "views_checks"):
        assert "controls" in lesson_imports(view) and not {"views", "views_checks"} & lesson_imports(view) - {view}
    for shared in ("controls", "content"):
        assert not {"page", "views", "views_checks"} & lesson_imports(shared), shared
    assert "content" not in lesson_imports("controls")  # content -> controls, not back


def test_the_text_lives_in_content_and_imports_no_streamlit():
    from lessons.activations import content, page

    assert "streamlit" not in lesson_imports("content")
    assert content.EXPERIMENTS and content.QUIZ and content.READING
    for name in ("EXPERIMENTS", "QUIZ", "READING", "WHY", "OBJECTIVES"):
        assert not hasattr(page, name), f"page.py still defines {name}"
