"""The public surface: what each public module exports is what api.md documents, and no more.

Public modules are the top-level package, ``tools``, ``langchain`` and ``testing``; every other
module is private, and no module of the package reaches into another's underscore names.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
import re

import pytest

import airforce_openai as af

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "airforce_openai"
API = (ROOT / "api.md").read_text(encoding="utf-8")

PUBLIC_MODULES = {
    "airforce_openai",
    "airforce_openai.__main__",
    "airforce_openai.langchain",
    "airforce_openai.testing",
    "airforce_openai.testing.__main__",
    "airforce_openai.testing.pytest_plugin",
    "airforce_openai.tools",
}


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def declared_all(module: str) -> list[str]:
    """``__all__`` read from the source, so optional extras need not be installed."""
    tree = ast.parse(SOURCES[module].read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return value
    raise AssertionError(f"{module} has no __all__")


def imported_in_api(module: str) -> set[str]:
    names: set[str] = set()
    for line in re.findall(rf"^from {re.escape(module)} import (.+?)(?:  #.*)?$", API, re.M):
        names |= {name.strip() for name in line.split(",")}
    return names


def test_top_level_exports_are_what_api_md_documents() -> None:
    documented = set(re.findall(r"\baf\.(\w+)", API))
    assert documented == set(af.__all__)


def test_every_top_level_name_resolves() -> None:
    for name in af.__all__:
        assert getattr(af, name) is not None, name
    assert set(dir(af)) >= set(af.__all__)


def test_tools_exports_are_what_api_md_documents() -> None:
    documented = set(re.findall(r"\baf\.tools\.(\w+)", API))
    assert documented == set(declared_all("airforce_openai.tools"))


@pytest.mark.parametrize("module", ["airforce_openai.testing", "airforce_openai.langchain"])
def test_submodule_exports_are_what_api_md_imports(module: str) -> None:
    assert imported_in_api(module) == set(declared_all(module))


def test_testing_exports_resolve() -> None:
    testing = importlib.import_module("airforce_openai.testing")
    for name in testing.__all__:
        assert getattr(testing, name) is not None, name


def test_every_other_module_is_private() -> None:
    public = {
        name
        for name in SOURCES
        if not any(part.startswith("_") and part != "__main__" for part in name.split("."))
    }
    assert public == PUBLIC_MODULES


def underscore_reaches(path: pathlib.Path) -> list[str]:
    """Imports of another module's ``_name`` and ``module._name`` on one of ours."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if not base.startswith("airforce_openai"):
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in SOURCES:
                    aliases.add(alias.asname or alias.name)
                elif alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{here}:{node.lineno} imports {base}.{alias.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{here}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def foreign_private_attributes(path: pathlib.Path) -> list[str]:
    """``thing._name`` where ``_name`` is defined nowhere in this module: another's private."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            own.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            own.add(node.target.id)
    return [
        f"{module_name(path)}:{node.lineno} uses .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and node.attr not in own
    ]


def test_no_module_reaches_into_another_modules_private_names() -> None:
    found = [reach for path in SOURCES.values() for reach in underscore_reaches(path)]
    assert found == []


def test_only_the_client_reaches_into_private_attributes_it_did_not_define() -> None:
    # _client.py is the one module that may use the openai SDK's internals.
    found = [
        reach
        for name, path in SOURCES.items()
        if name != "airforce_openai._client"
        for reach in foreign_private_attributes(path)
    ]
    assert found == []
