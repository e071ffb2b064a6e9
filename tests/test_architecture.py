"""The house is what docs/architecture.md says: imports follow its tables, and the edit path runs without torch."""

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
ROOMS = ("xmp", "darktable_bridge", "agent", "server", "retouchiq")
# a module named in a string: "agent.policy.rules:RulePolicy" (a registry), import_module("server.app")
NAMED = re.compile(rf"^(?:{'|'.join(ROOMS)})(?:\.\w+)*(?::\w+)?$")


def table(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after the line that starts with ``heading``."""
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not set(cells[0]) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    return rows


def names(cell: str) -> list[str]:
    return re.findall(r"`([\w.]+)`", cell)


def rules() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(room → what it may import, part of agent → what it may not) as docs/architecture.md states them."""
    allowed = {}
    for room, _, may in table("| room |"):
        room = names(room)[0]
        allowed[room] = ROOMS if may.strip() == "everything" else names(may)
    forbidden = {}
    for parts, never in table("| part of agent |"):
        for part in names(parts):
            forbidden[part] = names(never)
    return allowed, forbidden


def imports(path: Path, root: Path) -> list[tuple[int, str]]:
    """Every project module a file imports (top level, inside functions, relative, or named in a string)."""
    module = ".".join(path.relative_to(root).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.append((node.lineno, str(node.args[0].value)))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and ":" in node.value
            and NAMED.match(node.value)
        ):
            found.append((node.lineno, node.value.partition(":")[0]))
    return [(line, name) for line, name in found if name.split(".")[0] in ROOMS]


def violations(root: Path) -> list[str]:
    allowed, forbidden = rules()
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        room = rel.parts[0]
        if room not in allowed or ".venv" in rel.parts:
            continue
        module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        for line, name in imports(path, root):
            target = name.split(".")[0]
            ok = any(name == a or name.startswith(a + ".") or (a == target and "." not in a) for a in allowed[room])
            if not ok:
                out.append(f"{rel}:{line}: {room} imports {name}")
            for part, never in forbidden.items():
                if module == part or module.startswith(part + "."):
                    out += [
                        f"{rel}:{line}: {part} imports {name}" for n in never if name == n or name.startswith(n + ".")
                    ]
    return out


def test_docs_state_every_room():
    allowed, forbidden = rules()
    assert set(allowed) >= set(ROOMS)
    assert allowed["server"] == ["agent.api", "server"] and "agent.data" in forbidden["agent.policy"]


def test_imports_follow_the_rooms():
    assert violations(ROOT) == []


def test_the_checker_finds_violations(tmp_path):
    """A negative test: imports up through the rooms, around the agent's public face and into the training
    data from a policy are all reported, in every form (plain, relative, lazy, by name in a string)."""
    files = {
        "xmp/bad.py": "from agent import core\n",
        "darktable_bridge/bad.py": "def f():\n    import server.app\n    importlib.import_module('agent.edit')\n",
        "agent/bad.py": "REGISTRY = {'x': 'retouchiq.cli:main'}\n",
        "agent/policy/bad.py": "from ..data import synth\n",
        "server/bad.py": "from darktable_bridge import photos\nfrom agent.api import edit\n",
        "retouchiq/fine.py": "import server.app\nimport agent.data\n",
        "agent/fine.py": '"""Mentions server.app in a docstring only."""\nfrom xmp import files\n'
        'LOGGER = "retouchiq.server"\n',
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text))
    found = violations(tmp_path)
    assert found == [
        "agent/bad.py:1: agent imports retouchiq.cli",
        "agent/policy/bad.py:1: agent.policy imports agent.data.synth",
        "darktable_bridge/bad.py:2: darktable_bridge imports server.app",
        "darktable_bridge/bad.py:3: darktable_bridge imports agent.edit",
        "server/bad.py:1: server imports darktable_bridge.photos",
        "xmp/bad.py:1: xmp imports agent.core",
    ], found


def test_an_edit_imports_neither_torch_nor_transformers(tmp_path):
    """The command line's edit (and the policy it loads) runs on numpy and onnxruntime: importing torch alone
    costs more than darktable-cli's whole render of the photo."""
    from PIL import Image

    photo = tmp_path / "p.jpg"
    Image.new("RGB", (64, 48), (120, 90, 60)).save(photo)
    code = (
        "import sys\nfrom retouchiq.cli import main\n"
        f"rc = main(['edit', {str(photo)!r}, '-i', 'warmer'])\n"
        "print('loaded:', sorted(m for m in ('torch', 'transformers') if m in sys.modules), rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == "loaded: [] 0", out.stdout + out.stderr
    assert (tmp_path / "p.jpg.xmp").exists()
