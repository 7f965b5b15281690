"""No test module imports CDK when it is imported: every xdist worker imports every test module,
so the worker that runs the Spark tests would start a jsii runtime it never uses. CDK is
imported inside the tests, fixtures and helpers that use it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).parent
CDK_PACKAGES = frozenset({"aws_cdk", "constructs", "cdk_nag", "jsii", "stacks"})


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_on_import(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes run when the module is imported: those of classes and of ``if``, ``try`` and
    ``with`` blocks too, but not those of functions or of an ``if TYPE_CHECKING:`` body."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        yield child
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            yield from _run_on_import(ast.Module(body=child.orelse, type_ignores=[]))
        else:
            yield from _run_on_import(child)


def _imported(statement: ast.AST) -> list[str]:
    if isinstance(statement, ast.Import):
        return [alias.name for alias in statement.names]
    if isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module:
        return [statement.module]
    return []


def cdk_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of each CDK import run when the module is imported."""
    return [
        (statement.lineno, name)
        for statement in _run_on_import(ast.parse(source))
        for name in _imported(statement)
        if name.split(".")[0] in CDK_PACKAGES
    ]


def test_no_test_module_imports_cdk_when_imported():
    modules = sorted(TESTS.rglob("*.py"))
    assert TESTS / "infra" / "test_compliance.py" in modules
    found = [
        f"{path.relative_to(TESTS.parent).as_posix()}:{line}: imports {name}"
        for path in modules
        for line, name in cdk_imports(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_imports_run_on_import_are_found_and_the_others_are_not():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from aws_cdk.assertions import Template\n"
        "try:\n"
        "    import aws_cdk as cdk\n"
        "except ImportError:\n"
        "    from stacks.app_builder import new_app\n"
        "else:\n"
        "    import jsii\n"
        "def synthesized():\n"
        "    from constructs import Construct\n"
        "class Checks:\n"
        "    import cdk_nag, yaml\n"
        "    async def synth(self):\n"
        "        import aws_cdk\n"
        "import stacks_of_paper\n"
    )
    assert cdk_imports(source) == [
        (5, "aws_cdk"),
        (7, "stacks.app_builder"),
        (9, "jsii"),
        (13, "cdk_nag"),
    ]
