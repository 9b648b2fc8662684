"""Each lesson as a notebook (lessons/notebooks.py): the lesson's texts, then exactly its do-it-yourself
code; it prints what the script prints; it is built without streamlit or torch; the command writes them all.

Each lesson's own do-it-yourself test executes its notebook and checks the numbers
(tests/unit/notebook_run.py); the last test here checks that every ready lesson has one."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from lessons import notebooks
from lessons.registry import COURSE
from tests.unit.notebook_run import run_notebook

ROOT = Path(__file__).resolve().parents[2]
READY = [lesson for lesson in COURSE if lesson.ready]


def script_cells(notebook: nbformat.NotebookNode) -> list:
    """The code cells that come from the script (not the last one, which shows the saved pictures)."""
    return [cell for cell in notebook.cells
            if cell.cell_type == "code" and notebooks.SHOW_TAG not in cell.metadata.get("tags", [])]


def code_of(notebook: nbformat.NotebookNode) -> str:
    return "\n\n".join(cell.source for cell in script_cells(notebook))


def statements(code: str, drop_docstring: bool = False) -> str:
    """The code's statements (comments, blank lines and # %% markers do not count)."""
    tree = ast.parse(code)
    if drop_docstring and ast.get_docstring(tree) is not None:
        tree.body = tree.body[1:]
    return ast.dump(tree)


@pytest.mark.parametrize("lesson", READY, ids=lambda lesson: lesson.slug)
def test_the_notebook_opens_with_the_lessons_texts(lesson):
    built = notebooks.notebook(lesson.slug)
    nbformat.validate(built)
    texts = notebooks.lesson_texts(ROOT / "lessons" / lesson.slug / "content.py")
    assert set(texts) == {"WHY", "OBJECTIVES", "DIY_CAPTION"}, "content.py should say all three"
    title, objectives, diy = (cell.source for cell in built.cells[:3])
    assert all(cell.cell_type == "markdown" for cell in built.cells[:3])
    assert title == f"# {lesson.title}\n\n{texts['WHY']}"
    assert all(f"- {goal}" in objectives for goal in texts["OBJECTIVES"])
    assert texts["DIY_CAPTION"] in diy and f"`lessons/{lesson.slug}/diy.py`" in diy
    assert built.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("lesson", READY, ids=lambda lesson: lesson.slug)
def test_the_notebooks_code_is_the_script_in_several_cells(lesson):
    script = (ROOT / "lessons" / lesson.slug / "diy.py").read_text()
    built = notebooks.notebook(lesson.slug)
    assert statements(code_of(built)) == statements(script, drop_docstring=True)
    assert len(script_cells(built)) == script.count("\n# %%") + 1 >= 3
    saved = sorted(set(re.findall(r"\"(\w+\.png)\"", script)))
    shown = [cell for cell in built.cells if cell not in script_cells(built) and cell.cell_type == "code"]
    assert [sorted(re.findall(r'Image\("(\w+\.png)"\)', cell.source)) for cell in shown] == ([saved] if saved else [])
    assert all(cell.source.startswith(f"# {notebooks.SHOW_TAG}") for cell in shown)


def test_a_new_lesson_needs_no_change_to_the_exporter(tmp_path):
    """Any folder with a diy.py (cells at # %% markers, Markdown at # %% [markdown]) and a content.py."""
    (tmp_path / "content.py").write_text('from x import y\nWHY = ("A " "why.")\nOBJECTIVES = ["one", "two"]\n'
                                         'DIY_CAPTION = "It prints 6."\nQUIZ = y()\n')
    (tmp_path / "diy.py").write_text('"""The docstring."""\nimport math\n\n# %% [markdown]\n# The *sum*:\n\n'
                                     '# %%\nprint(math.prod([1, 2, 3]))\n')
    built = notebooks.notebook("new", tmp_path / "diy.py")
    kinds = [(cell.cell_type, cell.source) for cell in built.cells]
    assert kinds[0] == ("markdown", "# new\n\nA why.") and kinds[1][1].endswith("- one\n- two")
    assert "It prints 6." in kinds[2][1] and "diy.py" in kinds[2][1] and "repository" not in kinds[2][1]
    assert kinds[3:] == [("markdown", "The docstring."), ("code", "import math"), ("markdown", "The *sum*:"),
                         ("code", "print(math.prod([1, 2, 3]))")]


def test_percent_cells_follow_jupytext():
    """As jupytext 1.19 reads the same text in its percent format, but for the empty last cell, left out here
    (jupytext is not a dependency: its import alone takes 0.5 s; checked by hand on every diy.py too)."""
    code = ('import os\n\n# %% A title\nx = 1\n\n# %% [markdown]\n# Some *text*\n#\n# more\n\n# %%\n'
            '# a comment stays\nprint(x)\n# %%\n')
    assert notebooks.percent_cells(code) == [("code", "import os"), ("code", "x = 1"),
                                             ("markdown", "Some *text*\n\nmore"), ("code", "# a comment stays\nprint(x)")]


def test_the_download_is_the_notebook_as_nbformat_reads_it():
    for lesson in READY:
        text = notebooks.notebook_json(lesson.slug)
        assert nbformat.reads(text, as_version=4) == notebooks.notebook(lesson.slug)
        assert notebooks.notebook_json.__wrapped__(lesson.slug) == text  # the same bytes on every build


def test_a_computed_text_is_refused_by_name(tmp_path):
    (tmp_path / "content.py").write_text('N = 3\nWHY = f"{N} layers"\n')
    with pytest.raises(ValueError, match="WHY must be a literal"):
        notebooks.lesson_texts(tmp_path / "content.py")


def test_a_notebook_that_imports_the_course_packages_says_where_to_start_jupyter():
    intro = notebooks.notebook("activations").cells[2].source
    assert "`data`, `models` packages" in intro and "root folder" in intro


@pytest.mark.parametrize("slug", ["architecture", "gradients"])  # the quick ones: 2 runs each
def test_the_notebook_prints_what_the_script_prints(slug, tmp_path):
    (tmp_path / "script").mkdir(), (tmp_path / "notebook").mkdir()
    script = subprocess.run([sys.executable, str(ROOT / "lessons" / slug / "diy.py")], cwd=tmp_path / "script",
                            capture_output=True, text=True, timeout=300, env={"PYTHONPATH": str(ROOT),
                                                                               "PATH": "/usr/bin:/bin"})
    assert script.returncode == 0, script.stderr[-2000:]
    assert run_notebook(slug, tmp_path / "notebook") == script.stdout
    assert sorted(p.name for p in (tmp_path / "script").iterdir()) == sorted(
        p.name for p in (tmp_path / "notebook").iterdir())  # the same pictures saved


def test_the_download_is_built_without_streamlit_torch_or_nbformat():
    code = ("import sys\nfrom lessons import notebooks\nfrom lessons.registry import COURSE\n"
            "[notebooks.notebook_json(lesson.slug) for lesson in COURSE if lesson.ready]\n"
            "print(sorted(m for m in ('streamlit', 'torch', 'numpy', 'nbformat', 'jupytext') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_the_command_writes_every_ready_lesson(tmp_path):
    done = subprocess.run([sys.executable, "-m", "lessons.notebooks", str(tmp_path / "out")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{x.slug}.ipynb" for x in READY)
    for lesson in READY:
        saved = nbformat.read(tmp_path / "out" / f"{lesson.slug}.ipynb", as_version=4)
        nbformat.validate(saved)
        assert saved == notebooks.notebook(lesson.slug)


def test_every_ready_lesson_has_a_test_that_executes_its_notebook():
    """The numbers are checked on the notebook, in the lesson's own test file (tests run in parallel by file)."""
    called = {}
    for path in (ROOT / "tests" / "unit").glob("test_*.py"):
        for slug in re.findall(r"run_notebook\(\"(\w+)\"", path.read_text()):
            called.setdefault(slug, []).append(path.name)
    called = {slug: files for slug, files in called.items() if files != ["test_notebooks.py"]}
    assert sorted(called) == sorted(lesson.slug for lesson in READY)
