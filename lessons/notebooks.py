"""Every lesson as a Jupyter notebook: its title and texts as Markdown, then its do-it-yourself script.

The script `lessons/<slug>/diy.py` is cut into code cells at its `# %%` markers (jupytext's percent
format; a `# %% [markdown]` cell becomes Markdown), so the notebook runs exactly the code the page shows
and the lesson's test runs. The texts come from the lesson's content.py: WHY, OBJECTIVES and DIY_CAPTION,
read as literals without importing it. The page's download (`notebook_json`) is plain JSON built in a few
milliseconds: no streamlit, no torch, not even jupytext or nbformat (0.5 s of imports each); `notebook`
returns the same notebook as an nbformat node.

    python -m lessons.notebooks [OUT_DIR]    # writes OUT_DIR/<slug>.ipynb for every ready lesson (default notebooks/)
"""
from __future__ import annotations

import ast
import json
import re
import sys
from functools import lru_cache
from pathlib import Path

LESSONS = Path(__file__).resolve().parent
ROOT = LESSONS.parent
TEXTS = ("WHY", "OBJECTIVES", "DIY_CAPTION")  # what a lesson's content.py says, in the notebook's order
CELL_MARKER = re.compile(r"^# %%(.*)$")  # "# %%", "# %% [markdown]", "# %% a title"
SAVED_PICTURE = re.compile(r"""\.save(?:fig)?\(\s*["']([\w.-]+\.png)["']""")  # .save("x.png"), .savefig("x.png")
SHOW_TAG = "show-saved-pictures"  # the one code cell that is not the script's: it shows what the script saved
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
          "language_info": {"name": "python"}}


def lesson_texts(content_file: Path) -> dict[str, str | list[str]]:
    """The texts of TEXTS that a content.py assigns at its top level, each a literal (a string, or a list of
    strings for OBJECTIVES). A name assigned something else (a computed f-string) raises ValueError."""
    if not content_file.exists():
        return {}
    found: dict[str, str | list[str]] = {}
    for node in ast.parse(content_file.read_text(), filename=str(content_file)).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name) and target.id in TEXTS and node.value is not None:
                try:
                    found[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    raise ValueError(f"{content_file}: {target.id} must be a literal to appear in the notebook") from None
    return found


def lesson_title(slug: str) -> str:
    """The lesson's title in the course registry (the slug for a page that is not a registered lesson)."""
    from lessons.registry import COURSE

    return next((lesson.title for lesson in COURSE if lesson.slug == slug), slug)


def local_packages_imported(code: str) -> list[str]:
    """The repository's own packages (data, models, ...) that the code imports: it needs the repository."""
    imported = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    return sorted(name for name in imported if (ROOT / name / "__init__.py").exists())


def split_docstring(code: str) -> tuple[str | None, str]:
    """A cell's leading module docstring (or None) and the code after it."""
    tree = ast.parse(code)
    docstring = ast.get_docstring(tree, clean=True)
    if docstring is None:
        return None, code
    rest = code.splitlines()[tree.body[0].end_lineno:]
    return docstring, "\n".join(rest).strip("\n")


def introduction(slug: str, texts: dict, script_name: str, needs: list[str]) -> list[str]:
    """The Markdown cells before the code: title and why, the objectives, what the code does."""
    cells = [f"# {lesson_title(slug)}" + (f"\n\n{texts['WHY']}" if "WHY" in texts else "")]
    if texts.get("OBJECTIVES"):
        cells.append("## What you will learn\n\n" + "\n".join(f"- {goal}" for goal in texts["OBJECTIVES"]))
    run = (f"The code cells below are `{script_name}`, the code shown under \u201cDo it yourself\u201d on the "
           "lesson's page; the cells run in order, and what they print and save is what the script prints and saves.")
    if needs:
        run += (" They import the course's own " + ", ".join(f"`{name}`" for name in needs) + " package"
                + ("s" if len(needs) > 1 else "") + ": start Jupyter in the course repository's root folder "
                "(or put that folder on `PYTHONPATH`).")
    cells.append("## Do it yourself\n\n" + (texts["DIY_CAPTION"] + "\n\n" if "DIY_CAPTION" in texts else "") + run)
    return cells


def percent_cells(code: str) -> list[tuple[str, str]]:
    """The (kind, source) cells of a script in jupytext's percent format: a `# %%` line starts a code cell,
    `# %% [markdown]` a Markdown cell whose lines drop their leading `# `; the code before the first marker
    is a cell too. Empty cells are left out."""
    cells: list[tuple[str, list[str]]] = [("code", [])]
    for line in code.splitlines():
        marker = CELL_MARKER.match(line)
        if marker:
            cells.append(("markdown" if marker.group(1).strip() in ("[markdown]", "[md]") else "code", []))
        else:
            cells[-1][1].append(line)
    found = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines]
        source = "\n".join(lines).strip("\n")
        if source.strip():
            found.append((kind, source))
    return found


def notebook_dict(slug: str, script: str | Path | None = None) -> dict:
    """Lesson `slug` as a notebook (nbformat 4.5, as plain JSON data): Markdown cells with its title, why,
    objectives and do-it-yourself caption, then `script` (default lessons/<slug>/diy.py) cut at its `# %%`
    markers, its docstring as a Markdown cell; last, a cell (tagged SHOW_TAG) that shows the PNG files it saves."""
    script = Path(script) if script is not None else LESSONS / slug / "diy.py"
    code = script.read_text()
    texts = lesson_texts(script.with_name("content.py"))
    shown_name = script.relative_to(ROOT).as_posix() if script.is_relative_to(ROOT) else script.name
    cells = [("markdown", text) for text in introduction(slug, texts, shown_name, local_packages_imported(code))]
    for i, (kind, source) in enumerate(percent_cells(code)):
        docstring, source = split_docstring(source) if i == 0 and kind == "code" else (None, source)
        cells += [("markdown", docstring)] if docstring else []
        cells += [(kind, source)] if source.strip() else []
    cells += show_saved_pictures(code)
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": KERNEL,
            "cells": [{"cell_type": kind, "id": f"cell-{i}", "source": source,  # fixed ids: the same file each time
                       "metadata": {"tags": [SHOW_TAG]} if kind == "code" and SHOW_TAG in source else {},
                       **({"execution_count": None, "outputs": []} if kind == "code" else {})}
                      for i, (kind, source) in enumerate(cells)]}


def show_saved_pictures(code: str) -> list[tuple[str, str]]:
    """Cells that show the PNG files the script saves (in its working folder) inside the notebook."""
    pictures = list(dict.fromkeys(SAVED_PICTURE.findall(code)))
    if not pictures:
        return []
    shown = "\n".join(f'display(Image("{name}"))' for name in pictures)
    return [("markdown", "The picture" + ("s" if len(pictures) > 1 else "") + " the code saved, "
             + ", ".join(f"`{name}`" for name in pictures) + ", beside this notebook:"),
            ("code", f"# {SHOW_TAG}: not part of the script\nfrom IPython.display import Image, display\n\n{shown}")]


def notebook(slug: str, script: str | Path | None = None):
    """The notebook of `notebook_dict` as a validated nbformat.NotebookNode."""
    import nbformat

    built = nbformat.from_dict(notebook_dict(slug, script))
    nbformat.validate(built)
    return built


@lru_cache(maxsize=32)
def notebook_json(slug: str, script: str | None = None) -> str:
    """The notebook as .ipynb text (nbformat's layout), built once per process: it changes only with the code."""
    return json.dumps(notebook_dict(slug, script), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_all(out_dir: str | Path = "notebooks") -> list[Path]:
    """Write <slug>.ipynb for every ready lesson into out_dir; the files written."""
    from lessons.registry import COURSE

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for lesson in COURSE:
        if lesson.ready and (LESSONS / lesson.slug / "diy.py").exists():
            path = out / f"{lesson.slug}.ipynb"
            path.write_text(notebook_json(lesson.slug))
            written.append(path)
    return written


def main(argv: list[str]) -> None:
    for path in write_all(argv[0] if argv else "notebooks"):
        print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
