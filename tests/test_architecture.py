"""The layering of ARCHITECTURE.md, held by parsing the source (no imports run, lazy imports included).

1. Imports go down the order kapcare < patients < assessments < treatment < messaging < {records, network,
   outcomes, bench} < demo: an app reads the apps below it, never one above it or a peer of its tier.
   Tests are exempt, and so is the project wiring that names every app (the root URLconf, settings).
2. Views and API modules read through selectors: no `<Model>.objects` in them.
3. A `ScopedViewSet` reaches objects only through its `scope`: no subclass overrides `get_queryset`.
4. No circle of modules importing each other, lazily or not (tasks import services; services enqueue by name).
5. No service twins: a public service that checks access and returns a private `@transaction.atomic` copy is
   one function under kapcare.services.service instead.

Each check is a function over a source root, so the tests below also run it on a planted tree and see it fail.
"""

import ast
import functools
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each app's tier: an app may import its own tier's modules only from itself, and any app of a lower tier.
TIERS = {
    "kapcare": 0,
    "patients": 1,
    "assessments": 2,
    "treatment": 3,
    "messaging": 4,
    "records": 5,
    "network": 5,
    "outcomes": 5,
    "demo": 6,
    "bench": 7,  # measures what demo's seed_load writes
}
# Modules that assemble the whole project, and so name every app by design.
WIRING = ("kapcare/urls.py", "kapcare/settings/")
VIEW_MODULES = ("views.py", "api.py")


def project_modules(root):
    """(path relative to root, module name) of every app module but tests and migrations."""
    root = Path(root)
    for app in TIERS:
        for path in sorted((root / app).rglob("*.py")):
            relative = path.relative_to(root)
            parts = relative.parts
            if "tests" in parts or "migrations" in parts or parts[-1].startswith(("test_", "conftest")):
                continue
            module = ".".join(parts)[: -len(".py")].removesuffix(".__init__")
            yield relative, module


def _imported_modules(tree, module, is_package):
    """(line, absolute module name) of every import in the module, at any depth (lazy imports included)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            yield node.lineno, target


def _module_imports(tree, module, is_package, modules):
    """The project modules this one imports: `from a import b` counts a.b when b is a module."""
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for _line, target in _imported_modules(ast.Module(body=[node], type_ignores=[]), module, is_package):
            names = [alias.name for alias in node.names] if isinstance(node, ast.ImportFrom) else []
            found.update(name for name in (target, *(f"{target}.{name}" for name in names)) if name in modules)
    found.discard(module)
    return found


def _parse(root, relative):
    return _parsed((Path(root) / relative).read_text(), str(relative))


@functools.cache
def _parsed(source, filename):
    """The checks only read the trees: each source is parsed once per run, in the real tree and its planted copies."""
    return ast.parse(source, filename=filename)


def upward_imports(root):
    """'path:line imports module' for each import of an app of the same or a higher tier than the importer's."""
    found = []
    for relative, module in project_modules(root):
        if str(relative).startswith(WIRING):
            continue
        app = relative.parts[0]
        tree = _parse(root, relative)
        for line, target in _imported_modules(tree, module, relative.name == "__init__.py"):
            other = target.partition(".")[0]
            if other in TIERS and other != app and TIERS[other] >= TIERS[app]:
                found.append(f"{relative}:{line} imports {target}")
    return found


def import_circles(root):
    """Each set of modules that import one another in a circle (lazy imports included), as sorted lists."""
    paths = {module: relative for relative, module in project_modules(root)}
    graph = {
        module: _module_imports(_parse(root, relative), module, relative.name == "__init__.py", paths)
        for module, relative in paths.items()
    }
    circles, order, low, stack, on_stack = [], {}, {}, [], set()

    def visit(module):  # Tarjan's strongly connected components
        order[module] = low[module] = len(order)
        stack.append(module)
        on_stack.add(module)
        for other in graph[module]:
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            component = []
            while not component or component[-1] != module:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                circles.append(sorted(component))

    for module in graph:
        if module not in order:
            visit(module)
    return circles


def _is_atomic(function):
    return any(ast.unparse(decorator) == "transaction.atomic" for decorator in function.decorator_list)


def service_twins(root):
    """'path:line public -> _twin' for each public function of a services module that checks access
    (access.require...) and returns a call of a private function of the module decorated @transaction.atomic."""
    found = []
    for relative, _module in project_modules(root):
        if not relative.name.endswith("services.py"):
            continue
        functions = [node for node in _parse(root, relative).body if isinstance(node, ast.FunctionDef)]
        atomic = {function.name for function in functions if _is_atomic(function)}
        for function in functions:
            last = function.body[-1]
            checks = "access.require" in ast.unparse(function)
            if function.name.startswith("_") or not checks or not isinstance(last, ast.Return):
                continue
            call = last.value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in atomic:
                found.append(f"{relative}:{function.lineno} {function.name} -> {call.func.id}")
    return found


def _is_view_module(relative):
    return relative.name in VIEW_MODULES or relative.name.endswith(tuple(f"_{name}" for name in VIEW_MODULES))


def model_reads_in_views(root):
    """'path:line Name.objects' for each manager used in a view or API module (reads go through selectors)."""
    found = []
    for relative, _module in project_modules(root):
        if not _is_view_module(relative):
            continue
        for node in ast.walk(_parse(root, relative)):
            if isinstance(node, ast.Attribute) and node.attr == "objects" and isinstance(node.value, ast.Name):
                found.append(f"{relative}:{node.lineno} {node.value.id}.objects")
    return found


def _base_names(node):
    for base in node.bases:
        if isinstance(base, ast.Name):
            yield base.id
        elif isinstance(base, ast.Attribute):
            yield base.attr


def scoped_viewsets_overriding_get_queryset(root):
    """'path:line Class' for each subclass of ScopedViewSet (directly or through a project class) that
    defines get_queryset."""
    classes = {}  # name -> (relative, node)
    for relative, _module in project_modules(root):
        for node in ast.walk(_parse(root, relative)):
            if isinstance(node, ast.ClassDef):
                classes.setdefault(node.name, []).append((relative, node))

    def scoped(name, seen=()):
        if name == "ScopedViewSet":
            return True
        return any(
            scoped(base, (*seen, name))
            for _relative, node in classes.get(name, [])
            for base in _base_names(node)
            if base not in seen
        )

    found = []
    for name, definitions in classes.items():
        for relative, node in definitions:
            if name == "ScopedViewSet" or not any(scoped(base, (name,)) for base in _base_names(node)):
                continue
            methods = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
            if "get_queryset" in methods:
                found.append(f"{relative}:{node.lineno} {name}")
    return found


# The real tree -------------------------------------------------------------------------------------------


def test_imports_only_go_down_the_layers():
    assert upward_imports(ROOT) == []


def test_no_modules_import_each_other_in_a_circle():
    assert import_circles(ROOT) == []


def test_services_have_no_twins():
    assert service_twins(ROOT) == []


def test_views_and_api_read_through_selectors():
    assert model_reads_in_views(ROOT) == []


def test_no_scoped_viewset_overrides_get_queryset():
    assert scoped_viewsets_overriding_get_queryset(ROOT) == []


def test_the_scoped_viewset_refuses_a_get_queryset_override():
    from kapcare.api.base import ScopedViewSet

    with pytest.raises(TypeError, match="get_queryset"):
        type("Leaky", (ScopedViewSet,), {"get_queryset": lambda self: None})


# The checks themselves, on a planted tree -----------------------------------------------------------------


@pytest.fixture
def tree(tmp_path):
    """A copy of the real apps to plant violations in."""
    for app in TIERS:
        if (ROOT / app).is_dir():
            shutil.copytree(
                ROOT / app,
                tmp_path / app,
                ignore=shutil.ignore_patterns("__pycache__", "tests", "migrations", "templates", "static"),
            )
    return tmp_path


def plant(tree, relative, source):
    path = tree / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        ("kapcare/leak.py", "from patients.models import Patient\n", "kapcare/leak.py:1 imports patients.models"),
        (
            "patients/leak.py",
            "def later():\n    from treatment import models\n",
            "patients/leak.py:2 imports treatment",
        ),
        ("treatment/leak.py", "import messaging.tasks\n", "treatment/leak.py:1 imports messaging.tasks"),
        ("records/leak.py", "from bench import views\n", "records/leak.py:1 imports bench"),
        ("treatment/notes/leak.py", "from ..sessions import x\nfrom messaging import y\n", "py:2 imports messaging"),
    ],
)
def test_an_upward_import_fails_the_check(tree, relative, source, expected):
    plant(tree, relative, source)
    assert any(expected in found for found in upward_imports(tree)), upward_imports(tree)


def test_a_downward_import_and_a_test_module_pass_the_check(tree):
    plant(tree, "messaging/fine.py", "from treatment import models\nfrom kapcare import access\n")
    plant(tree, "patients/tests/test_up.py", "from messaging import models\n")
    plant(tree, "kapcare/test_up.py", "from messaging import models\n")
    assert [found for found in upward_imports(tree) if "fine" in found or "test_" in found] == []


def test_a_circle_of_imports_fails_the_check(tree):
    plant(tree, "patients/tasks.py", "from . import services\n")
    plant(tree, "patients/services.py", "def invite():\n    from .tasks import email_invitation\n")
    assert ["patients.services", "patients.tasks"] in import_circles(tree)


def test_a_service_twin_fails_the_check(tree):
    plant(
        tree,
        "treatment/visit_services.py",
        "from django.db import transaction\n\nfrom kapcare import access\n\n\n"
        "def visit_book(*, actor, patient):\n    access.require(actor, 'book', patient)\n"
        "    return _visit_book(actor=actor, patient=patient)\n\n\n"
        "@transaction.atomic\ndef _visit_book(*, actor, patient):\n    return patient\n",
    )
    assert service_twins(tree) == ["treatment/visit_services.py:6 visit_book -> _visit_book"]


@pytest.mark.parametrize("relative", ["patients/views.py", "treatment/note_api.py", "treatment/notes/views.py"])
def test_a_model_read_in_a_view_fails_the_check(tree, relative):
    plant(tree, relative, "from .models import Thing\n\n\ndef page(request):\n    return Thing.objects.all()\n")
    assert f"{relative}:5 Thing.objects" in model_reads_in_views(tree)


def test_a_scoped_viewset_overriding_get_queryset_fails_the_check(tree):
    plant(
        tree,
        "patients/leaky_api.py",
        "from kapcare.api.base import ScopedViewSet\n\n\nclass Base(ScopedViewSet):\n    pass\n\n\n"
        "class Leaky(Base):\n    def get_queryset(self):\n        return []\n",
    )
    assert "patients/leaky_api.py:8 Leaky" in scoped_viewsets_overriding_get_queryset(tree)
