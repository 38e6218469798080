"""The report's sections, in page order. Each takes the :class:`Report` and adds headings,
figures and tables, all from stored queries."""
from __future__ import annotations

from decimal import Decimal

import collabkg.report.charts as charts

FOCUS_PARTNERS = ["US", "DE", "JP"]
LARGEST = 4  # OIC countries given their own section

MIO = Decimal(1_000_000)


def _largest(r) -> list[str]:
    return [row["country"] for row in r.run("oic-country-summary").records()[:LARGEST]]


def _partner_bars(r, png: str, rows: list[dict], title: str):
    """Horizontal bars of projects shared per partner country, OIC member states in their own colour."""
    return charts.bars(r.png(png), [x["country"] for x in rows], [x["projects"] for x in rows],
                       title=title, xlabel="projects shared (count)", ylabel="partner country", horizontal=True,
                       colours=[charts.OIC_COLOUR if x["country"] in r.oic else charts.OTHER_COLOUR for x in rows])


def network(r) -> None:
    r.h(2, "Collaboration network of countries", "network")
    params = {"min_projects": 20}
    rows = r.run("collaboration-network", **params).records()
    # Only ties that involve an OIC member state, so that the picture stays readable.
    edges = [(x["country_a"], x["country_b"], x["projects"] + x["works"]) for x in rows
             if x["country_a"] in r.oic or x["country_b"] in r.oic]
    r.p("Pairs of countries with at least 20 joint projects or 20 co-authored works, where at least one "
        "of the two is an OIC member state. Edge width is proportional to joint projects + works.")
    png = charts.network(r.png("network"), edges, r.oic, title="Country collaboration network (OIC ties)")
    r.figure(png, "Network of countries, OIC members highlighted", "collaboration-network", params)
    r.table("collaboration-network", params, rows="oic", limit=20, caption="Strongest ties of OIC member states")


def oic_overview(r) -> None:
    r.h(2, "OIC member states at a glance", "overview")
    rows = r.run("oic-country-summary").records()
    top = rows[:15]
    png = charts.bars(r.png("oic-projects"), [x["country"] for x in top], [x["projects"] for x in top],
                      title="CORDIS projects per OIC member state (top 15)", xlabel="country (ISO code)",
                      ylabel="projects (count)", colours=[charts.OIC_COLOUR] * len(top))
    r.figure(png, "Projects per OIC member state", "oic-country-summary", {})
    r.table("oic-country-summary", {}, caption="All OIC member states with CORDIS participation")


def per_country(r) -> None:
    r.h(2, "The largest OIC participants, one by one", "countries")
    for c in _largest(r):
        name = r.names.get(c, c)
        r.h(3, f"{name} ({c})")
        p = {"country": c}
        partners = r.run("partner-countries", **p).records()[:10]
        png = _partner_bars(r, f"{c}-partners", partners, f"Top partner countries of {name}")
        r.figure(png, f"Top partner countries of {name}", "partner-countries", p)
        years = r.run("projects-per-year", **p).records()
        png = charts.bars(r.png(f"{c}-years"), [str(x["year"]) for x in years], [x["projects"] for x in years],
                          title=f"Projects of {name} per start year", xlabel="start year", ylabel="projects (count)")
        r.figure(png, f"Projects of {name} per year", "projects-per-year", p)
        money = r.run("funding-by-year", **p).records()
        png = charts.bars(r.png(f"{c}-funding"), [str(x["year"]) for x in money],
                          [float(x["ec_contribution"] / MIO) for x in money],
                          title=f"EU contribution to participants in {name}", xlabel="project start year",
                          ylabel="EU contribution (million EUR)", colours=[charts.OKABE_ITO[2]] * len(money))
        r.figure(png, f"EU funding of {name} per year", "funding-by-year", p)
        r.table("funding-by-year", p, caption=f"EU contribution (EUR) per start year, {name}")
        prof = r.run("theme-profile", **p).records()
        png = charts.grouped_bars(r.png(f"{c}-themes"), [x["theme"] for x in prof],
                                  {"projects": [x["projects"] for x in prof], "works": [x["works"] for x in prof]},
                                  title=f"Theme profile of {name}", xlabel="theme", ylabel="projects / works (count)")
        r.figure(png, f"Theme profile of {name}", "theme-profile", p)
        r.table("theme-profile", p, caption=f"Themes of {name}")


def theme_table(r) -> None:
    r.h(2, "Theme profile of every OIC participant", "themes")
    r.p("Projects per theme for each OIC member state with CORDIS participation (a project may have several "
        "themes). One stored query per country; the per-country tables follow.")
    for row in r.run("oic-country-summary").records():
        c = row["country"]
        r.table("theme-profile", {"country": c}, caption=f"{r.names.get(c, c)} ({c})")


def intra_oic(r) -> None:
    r.h(2, "Collaboration between OIC member states", "intra-oic")
    pairs = r.run("oic-pairs").records()[:15]
    png = charts.bars(r.png("oic-pairs"), [f"{x['country_a']}–{x['country_b']}" for x in pairs],
                      [x["projects"] for x in pairs], title="Pairs of OIC member states in joint projects (top 15)",
                      xlabel="projects shared (count)", ylabel="pair of countries", horizontal=True,
                      colours=[charts.OIC_COLOUR] * len(pairs))
    r.figure(png, "Pairs of OIC member states", "oic-pairs", {})
    r.table("oic-pairs", {}, limit=25, caption="Pairs of OIC member states (top 25)")


def coordination(r) -> None:
    r.h(2, "Coordination by OIC organisations", "coordination")
    rows = r.run("coordinated-by-oic").records()
    png = charts.bars(r.png("coordination"), [x["country"] for x in rows], [x["projects"] for x in rows],
                      title="Projects coordinated from OIC member states", xlabel="country (ISO code)",
                      ylabel="projects coordinated (count)", colours=[charts.OIC_COLOUR] * len(rows))
    r.figure(png, "Projects coordinated from OIC member states", "coordinated-by-oic", {})
    r.table("coordinated-by-oic", {})


def organisations(r) -> None:
    r.h(2, "Top organisations", "organisations")
    for c in _largest(r):
        r.table("top-organisations", {"country": c, "limit": 10}, caption=f"{r.names.get(c, c)} ({c})")


def publications(r) -> None:
    r.h(2, "Publications co-authored across OIC and non-OIC institutions", "publications")
    r.p("The OpenAlex sample covers six Gulf and Maghreb geoscientists, so the publication side is "
        "illustrative, not representative.")
    rows = r.run("cross-oic-works").records()
    png = charts.bars(r.png("cross-oic-works"), [x["country"] for x in rows], [x["works"] for x in rows],
                      title="Works with institutions in an OIC member state and outside the OIC",
                      xlabel="OIC member state (ISO code)", ylabel="works (count)", colours=[charts.OIC_COLOUR] * len(rows))
    r.figure(png, "Works co-authored across OIC and non-OIC institutions", "cross-oic-works", {})
    r.table("cross-oic-works", {})
    for c in [x["country"] for x in rows[:2]]:
        r.table("coauthor-countries", {"country": c}, limit=10, caption=f"Co-author countries of {r.names.get(c, c)}")


def health(r) -> None:
    r.h(2, "Focus: health research and its partners", "health")
    for c in ["SA"] + [c for c in _largest(r) if c != "SA"][:2]:
        p = {"country": c, "theme": "health"}
        rows = r.run("theme-partners", **p).records()[:10]
        png = _partner_bars(r, f"{c}-health", rows, f"Partners of {r.names.get(c, c)} in health projects")
        r.figure(png, f"Health partners of {c}", "theme-partners", p)
        r.table("theme-partners", p, limit=10, caption=f"Health projects of {r.names.get(c, c)} by partner country")


def big_partners(r) -> None:
    r.h(2, "Focus: partnerships with the USA, Germany and Japan", "partners")
    by_partner = {c: r.run("partner-countries", country=c).records() for c in FOCUS_PARTNERS}
    oic_rows = {c: {x["country"]: x["projects"] for x in rows if x["country"] in r.oic} for c, rows in by_partner.items()}
    top = sorted({k for d in oic_rows.values() for k in d}, key=lambda k: (-sum(d.get(k, 0) for d in oic_rows.values()), k))[:10]
    png = charts.grouped_bars(r.png("us-de-jp"), top, {r.names.get(c, c): [oic_rows[c].get(k, 0) for k in top] for c in FOCUS_PARTNERS},
                              title="Projects shared with the USA, Germany and Japan", xlabel="OIC member state (ISO code)",
                              ylabel="projects shared (count)")
    r.figure(png, "Projects of OIC member states with US, DE, JP", "partner-countries", [{"country": c} for c in FOCUS_PARTNERS])
    for c in FOCUS_PARTNERS:
        r.table("partner-countries", {"country": c}, rows="oic", limit=10,
                caption=f"OIC member states in projects with {r.names.get(c, c)}")


def water(r) -> None:
    r.h(2, "Focus: water and irrigation research", "water")
    r.p("Theme 'water-environment': EuroSciVoc water, environmental and ecological fields, and titles or "
        "keywords on water, irrigation, desalination, drought, pollution, ecosystems (ontology/themes.ttl).")
    profiles = {c: r.run("theme-profile", country=c).records() for c in [x["country"] for x in r.run("oic-country-summary").records()]}
    counts = {c: next((x["projects"] for x in rows if x["theme"] == "water-environment"), 0) for c, rows in profiles.items()}
    top = sorted(counts, key=lambda c: (-counts[c], c))[:10]
    png = charts.bars(r.png("water"), top, [counts[c] for c in top], title="Water and environment projects per OIC member state",
                      xlabel="country (ISO code)", ylabel="projects (count)", colours=[charts.OKABE_ITO[1]] * len(top))
    r.figure(png, "Water and environment projects per OIC member state", "theme-profile", [{"country": c} for c in top])
    for c in top[:3]:
        p = {"country": c, "theme": "water-environment"}
        r.table("theme-partners", p, limit=10, caption=f"Water and environment projects of {r.names.get(c, c)} by partner country")


ALL = [network, oic_overview, per_country, intra_oic, coordination, organisations, publications, health, big_partners,
       water, theme_table]
