"""The HTML page around the report's sections: inline CSS, no scripts, nothing fetched."""
from __future__ import annotations

import html
from datetime import date

CSS = """
body { font-family: system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; } h3 { margin-top: 1.6rem; }
table { border-collapse: collapse; margin: 0.6rem 0 0.2rem; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; } th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.2rem; }
figure { margin: 1rem 0; } img { max-width: 100%; height: auto; }
.src { font-size: 0.78rem; color: #555; margin-top: 0.1rem; } .src code { color: #000; }
.sources { font-size: 0.85rem; background: #fafafa; border: 1px solid #eee; padding: 0.5rem 1rem; }
nav ul { columns: 2; font-size: 0.9rem; }
"""


def page(parts: list[str], sources, newest_update: str) -> str:
    heads = [p for p in parts if p.startswith("<h2 id=")]
    toc = "".join(
        f'<li><a href="#{h.split(chr(34))[1]}">{h.split(">", 1)[1].rsplit("<", 1)[0]}</a></li>' for h in heads
    )
    src = "".join(
        f"<li>{html.escape(name)}, {html.escape(when)}; licence {html.escape(lic)}. {html.escape(attr)}.</li>"
        for name, when, lic, attr in sources
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Research collaboration of OIC member states</title>
<style>{CSS}</style>
</head>
<body>
<h1>Research collaboration of OIC member states</h1>
<p>Horizon Europe projects (CORDIS) with at least one participant in a member state of the Organisation
of Islamic Cooperation (OIC), and a sample of OpenAlex publications. Every figure and table below comes
from a stored query of the collabkg catalogue, named with its parameters under it; run it again with
<code>collabkg query NAME --param key=value</code>. Amounts are in euro (EUR).</p>
<div class="sources"><strong>Data</strong><ul>{src}
<li>Newest CORDIS record update in the store: {html.escape(newest_update)}. Report built {date.today().isoformat()}.</li></ul></div>
<nav><ul>{toc}</ul></nav>
{chr(10).join(parts)}
<hr><div class="sources"><strong>Data and licences</strong><ul>{src}</ul></div>
</body>
</html>
"""
