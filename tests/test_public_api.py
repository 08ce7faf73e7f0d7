from __future__ import annotations

import rag


def test_all_lists_exactly_the_public_names():
    import types

    public = {
        name
        for name, value in vars(rag).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    } - {"annotations"}
    assert set(rag.__all__) - {"__version__"} == public


def test_importing_rag_does_not_load_the_heavy_libraries():
    import subprocess
    import sys

    code = "import sys, rag; print(any(m in sys.modules for m in ('gradio', 'matplotlib', 'sentence_transformers')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_library_code_raises_only_the_projects_own_errors():
    """Every `raise` in rag/ names an error of rag.errors (or re-raises); only the command
    line's entry points may exit."""
    import ast
    from pathlib import Path

    import rag.errors

    own = {name for name, value in vars(rag.errors).items() if isinstance(value, type)}
    found = []
    for path in sorted(Path(rag.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = exc.id if isinstance(exc, ast.Name) else exc.attr if isinstance(exc, ast.Attribute) else "?"
            if name in own or (name == "SystemExit" and path.name == "train_selector.py"):
                continue
            if name == "ToolError" and path.name == "mcp_server.py":
                continue  # how an MCP tool reports our error to the agent: the SDK turns it into the result
            if isinstance(node.exc, ast.Name) and name.islower():
                continue  # re-raising a caught error
            found.append(f"{path.name}:{node.lineno} raises {name}")
    assert found == []


def test_bad_settings_are_project_errors_and_value_errors():
    import pytest

    from rag.errors import BadSetting, RagError
    from rag.settings import BuildSettings, ServeSettings, Settings, WindowSettings

    for make in (
        lambda: Settings(k=0),
        lambda: Settings(threshold=1.5),
        lambda: WindowSettings(128, 128),
        lambda: BuildSettings(max_file_mb=-1),
        lambda: ServeSettings(workers=0),
        lambda: Settings(nprobe=0),
        lambda: BuildSettings(ann_threshold=-5),
        lambda: Settings(topic_weight=-0.1),
        lambda: Settings(topic_weight=float("nan")),
        lambda: Settings(document_weight=2.0),
    ):
        with pytest.raises(BadSetting) as caught:
            make()
        assert isinstance(caught.value, RagError) and isinstance(caught.value, ValueError)


def test_no_module_of_the_library_imports_itself_round_a_circle():
    """Every import in rag/, inside functions too, as a graph of modules: no cycle (a cycle hidden
    in a function is still a cycle)."""
    import ast
    from pathlib import Path

    root = Path(rag.__file__).parent
    modules = {}
    for path in root.rglob("*.py"):
        rel = path.relative_to(root.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        modules[".".join(parts)] = path
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                for alias in node.names:
                    target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    if target in modules and target != name:
                        edges[name].add(target)
            elif isinstance(node, ast.Import):
                edges[name].update(a.name for a in node.names if a.name in modules and a.name != name)

    def cycle_from(start: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in edges[node]:
                if nxt == start:
                    return [*trail, start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
        return None

    cycles = [c for c in (cycle_from(m) for m in sorted(modules)) if c]
    assert cycles == []
