"""The code's shape: import arrows in the shared package point one way (down its layers, never into
`tabs/`, no circles), every tab keeps the tab contract, and a tab that breaks it stops the app at start-up."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
import yaml

from playground.config.catalog import parse_catalog
from playground.config.registry import TAB_SPECS, contract_problems
from playground.loading.adapters import ADAPTERS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "playground"


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at top level or inside functions (`from a import b` counts a and a.b)."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0] if path.stem != "__init__" else module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # `from .x import y`: relative to the importing module's package
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    """Every module of the shared package, subfolders included, by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def package_graph() -> dict[str, set[str]]:
    """playground module -> the playground modules it imports."""
    modules = package_modules()
    return {name: imported_modules(path) & set(modules) - {name} for name, path in modules.items()}


# The layers of playground/__init__.py, lowest first: a module imports its own package and earlier ones.
LAYERS = ("core", "config", "loading", "media", "engines", "tasks", "web", "operations")
# The adapters load the wrappers of the removed pipelines' models, which live beside the code that runs
# them (imported when such a model loads): the only arrows that point up.
UPWARD_IMPORTS_TO_MOVE = {
    ("playground.loading.adapters", "playground.tasks.extractive_qa"),
    ("playground.loading.adapters", "playground.engines.seq2seq"),
}


def layer(module: str) -> int | None:
    """The layer index of `playground.<package>.<module>`; None for the package's own __init__."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else None


def layering_problems(graph: dict[str, set[str]]) -> list[str]:
    """Every import that points from a lower layer to a higher one."""
    return sorted(
        f"{source} imports {target}"
        for source, targets in graph.items()
        for target in targets
        if layer(source) is not None
        and layer(target) is not None
        and layer(target) > layer(source)
        and (source, target) not in UPWARD_IMPORTS_TO_MOVE
    )


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of `graph` as a path (first module repeated at the end), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_no_module_of_the_shared_package_imports_tabs() -> None:
    offenders = {
        name: sorted(m for m in imported_modules(path) if m == "tabs" or m.startswith("tabs."))
        for name, path in package_modules().items()
    }
    assert len(offenders) > 30, "the walk reaches the subfolders"
    assert not {name: found for name, found in offenders.items() if found}, offenders


def test_every_module_of_the_shared_package_sits_in_a_layer() -> None:
    modules = package_modules()
    outside = [name for name in modules if layer(name) is None and name != "playground"]
    assert not outside, f"modules outside the layers {LAYERS}: {outside}"
    assert {name.split(".")[1] for name in modules if name != "playground"} == set(LAYERS)
    assert [path.name for path in PACKAGE.glob("*.py")] == ["__init__.py"], "every module sits in a layer's folder"
    sizes = {
        layer: sum(name.split(".")[1:2] == [layer] and name.count(".") == 2 for name in modules) for layer in LAYERS
    }
    assert max(sizes.values()) <= 12, f"a folder over a dozen modules: split it by concern ({sizes})"


def test_imports_point_down_the_layers() -> None:
    graph = package_graph()
    assert graph["playground.loading.model_manager"], "the graph sees imports"  # the check below can fail
    assert layering_problems(graph) == []
    assert UPWARD_IMPORTS_TO_MOVE <= {(s, t) for s, targets in graph.items() for t in targets}, (
        "an allowed upward import is gone: drop it from UPWARD_IMPORTS_TO_MOVE"
    )


def test_the_layer_check_finds_upward_imports() -> None:
    graph = {"playground.core.texts": {"playground.web.ui"}, "playground.web.ui": {"playground.core.texts"}}
    assert layering_problems(graph) == ["playground.core.texts imports playground.web.ui"]


def test_the_shared_package_has_no_import_circle() -> None:
    graph = package_graph()
    assert graph["playground.loading.model_manager"], "the graph sees imports"  # the check below can fail
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_circles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_importing_the_catalog_and_manager_loads_nothing_heavy() -> None:
    code = (
        "import sys, playground.config.catalog, playground.loading.model_manager, playground.web.errors, tabs; "
        "print(sorted(m for m in ('torch', 'transformers', 'gradio') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_building_the_whole_page_loads_neither_torch_nor_transformers(test_catalog: Path) -> None:
    """Start-up stays light when the catalog's models are on disk (a local folder, or the Hub cache
    after the first run): the page reads their settings as plain files, models load on first use."""
    code = (
        "import sys, app; from playground.config.catalog import load_catalog; "
        "from playground.loading.model_manager import ModelManager; "
        f"catalog = load_catalog({str(test_catalog)!r}); "
        "app.build_app(catalog, ModelManager(catalog), app.tab_modules(app.selected_tabs(catalog, None))); "
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_every_adapter_task_is_served_by_a_tab() -> None:
    served = {task for spec in TAB_SPECS for task in spec.tasks}
    assert set(ADAPTERS) <= served, "every adapter task is served by a tab"


@pytest.mark.parametrize("spec", TAB_SPECS, ids=lambda spec: spec.key)
def test_every_registered_tab_keeps_the_contract(spec) -> None:  # noqa: ANN001
    assert contract_problems(importlib.import_module(spec.module)) == []


def broken_module(**attributes: object) -> types.ModuleType:
    module = types.ModuleType("broken_tab")
    vars(module).update(attributes)
    return module


def test_contract_problems_name_what_is_missing() -> None:
    from playground.core.texts import Texts

    good_texts = Texts("broken", {"en": {"title": "T", "about": "A"}, "ko": {"title": "T", "about": "A"}})
    no_about = Texts("broken", {"en": {"title": "T"}, "ko": {"title": "T"}})
    assert contract_problems(broken_module(TEXTS=good_texts, build=lambda ctx: None)) == []
    assert contract_problems(broken_module(build=lambda ctx: None)) == ["no TEXTS = Texts.load(key, locales) table"]
    assert contract_problems(broken_module(TEXTS=no_about, build=lambda ctx: None)) == ["TEXTS has no 'about' string"]
    assert contract_problems(broken_module(TEXTS=good_texts)) == ["no build(ctx) function"]
    [problem] = contract_problems(broken_module(TEXTS=good_texts, build=lambda catalog, manager: None))
    assert "build(catalog, manager) must take one argument" in problem


def test_a_tab_that_breaks_the_contract_stops_the_app(test_catalog: Path, tmp_path: Path) -> None:
    """The real start-up path with the fill-mask tab replaced by a module that lacks `about` and has
    an old-style build(): exit code 2, a message naming the module and the fix, no traceback."""
    script = tmp_path / "start_with_broken_tab.py"
    script.write_text(
        textwrap.dedent(f"""
        import sys, types
        sys.path.insert(0, {str(ROOT)!r})
        from playground.core.texts import Texts
        broken = types.ModuleType("tabs.fill_mask.ui")
        broken.TEXTS = Texts("fill_mask", {{"en": {{"title": "Fill"}}, "ko": {{"title": "채우기"}}}})
        broken.build = lambda catalog, manager: None
        sys.modules["tabs.fill_mask.ui"] = broken
        import app
        sys.exit(app.main(["--catalog", {str(test_catalog)!r}, "--tabs", "fill_mask", "--port", "0"]))
    """)
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "tab 'fill_mask' (tabs.fill_mask.ui) breaks the tab contract" in result.stderr
    assert "TEXTS has no 'about' string" in result.stderr and "must take one argument" in result.stderr


def test_the_models_view_is_shown_whatever_the_catalog_lists() -> None:
    from app import selected_tabs

    catalog = parse_catalog({"tabs": {"fill_mask": {"models": [{"id": "a/b"}]}}})
    assert selected_tabs(catalog, None) == ["fill_mask", "models"]
    assert selected_tabs(catalog, "fill_mask") == ["fill_mask", "models"]


def test_a_catalog_cannot_list_the_models_view(tmp_path: Path) -> None:
    from playground.config.catalog import CatalogError, load_catalog

    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump({"tabs": {"models": {"models": [{"id": "a/b"}]}}}))
    with pytest.raises(CatalogError, match="tabs.models: unknown tab"):
        load_catalog(path)


def test_every_tab_group_is_known_and_the_strip_keeps_the_registry_order() -> None:
    from playground.config.registry import TAB_GROUPS, tab_strip

    groups = list(TAB_GROUPS.table["en"])
    assert {spec.group for spec in TAB_SPECS} - {""} <= set(groups), "a TabSpec names an unknown group"
    keys = [spec.key for spec in TAB_SPECS]
    strip = tab_strip(keys)
    assert sorted(key for _, members in strip for key in members) == sorted(keys), "every tab shown once"
    assert [group for group, _ in strip if group] == [g for g in groups if sum(s.group == g for s in TAB_SPECS) > 1]
    assert strip[-1] == ("", ["models"]), "tabs in no group come after the groups"
    # A group with one shown tab is left out: that tab sits in the top strip.
    assert tab_strip(["fill_mask", "text_generation", "summarization", "models"]) == [
        ("", ["fill_mask"]),
        ("writing", ["text_generation", "summarization"]),
        ("", ["models"]),
    ]
