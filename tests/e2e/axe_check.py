"""Run axe-core (vendored, see tests/e2e/axe/README.md) in the page a WebDriver shows."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

# WCAG 2.1 level A and AA: what Dutch public-sector sites must meet.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SERIOUS = {"serious", "critical"}


@lru_cache(maxsize=1)
def _axe_source() -> str:
    return (Path(__file__).parent / "axe" / "axe.min.js").read_text(encoding="utf-8")


def axe_run(driver, tags=WCAG_TAGS) -> list[dict]:
    """axe's violations for the current page (each with id, impact, help and nodes).

    The script is injected with execute_script, which the page's Content-Security-Policy
    does not govern (WebDriver evaluates it, not the page)."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(_axe_source())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        ".then(r => done(r.violations), e => done({error: String(e)}));",
        list(tags),
    )
    if isinstance(result, dict) and "error" in result:
        raise RuntimeError("axe-core failed: " + result["error"])
    return result


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v.get("impact") in SERIOUS]


def describe(violations: list[dict], max_nodes: int = 5) -> str:
    """A readable list: rule, impact, help, and the first few offending elements."""
    lines = []
    for v in violations:
        lines.append(f"- [{v.get('impact')}] {v['id']}: {v['help']} ({len(v['nodes'])} elements)")
        for node in v["nodes"][:max_nodes]:
            lines.append(f"    {' '.join(node.get('target', []))}: {node.get('failureSummary', '').splitlines()[-1:]}")
            lines.append(f"      {node.get('html', '')[:160]}")
    return "\n".join(lines)
