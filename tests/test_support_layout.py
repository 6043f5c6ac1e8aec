"""What tests share lives in the tests/support package: no test imports conftest (fixtures
reach tests through pytest) or another test module, and the old top-level helper modules
stay gone (a second copy of a helper is how they drifted apart before)."""
import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
OLD_HELPERS = {"conftest", "payloads", "faults_helpers", "browser", "hostile", "article_server", "notify_servers"}


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_tests_import_shared_helpers_from_the_support_package_only():
    wrong = sorted(
        f"{path.relative_to(TESTS)} imports {module}"
        for path in TESTS.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in OLD_HELPERS or module.startswith("test_")
    )
    assert wrong == []


def test_no_helper_module_is_left_beside_the_tests():
    beside = sorted(p.name for p in TESTS.glob("*.py") if not p.name.startswith("test_") and p.name != "conftest.py")
    assert beside == []
