#!/usr/bin/env python3
"""Checks that every #include between layers follows the edges of docs/architecture.md."""
import pathlib
import re
import sys

ALLOWED = {
    "core": set(),
    "domain": {"core"},
    "rules": {"core", "domain"},
    "policy": {"core", "domain"},
    "crypto": {"core"},
    "audit": {"core", "crypto"},
    "storage": {"core", "domain", "crypto"},
    "app": {"core", "domain", "rules", "policy", "crypto", "audit", "storage"},
    "api": {"app", "core", "domain"},  # value types pass through app's interface
    "cli": {"app", "api", "core", "domain"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')

root = pathlib.Path(__file__).resolve().parent.parent / "src"
bad = []
for path in root.rglob("*"):
    if path.suffix not in (".h", ".cc") or path.name.endswith(("_test.cc", "_pgtest.cc", "_fuzz.cc")):
        continue
    layer = path.relative_to(root).parts[0]
    if layer not in ALLOWED:
        continue
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = INCLUDE.match(line)
        if m and m.group(1) != layer and m.group(1) in ALLOWED and m.group(1) not in ALLOWED[layer]:
            bad.append(f"{path.relative_to(root.parent)}:{n}: {layer} may not include {m.group(1)}/")
if bad:
    print("layer violations:\n" + "\n".join(bad))
    sys.exit(1)
print("layers: ok")
