"""Themes: the mapping table of ontology/themes.ttl applied to real projects, checked against a
hand-labelled sample (tests/data/themes-hand-labelled.csv, labelled by reading titles and keywords)."""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from collabkg import catalogue, themes
from collabkg.namespaces import DEFAULT_BASE

HERE = Path(__file__).resolve().parent
LABELS = HERE / "data" / "themes-hand-labelled.csv"
PROJECT_CSV = HERE.parent / "data" / "cordis-horizon-europe" / "project.csv"
ORG_CSV = HERE.parent / "data" / "cordis-horizon-europe" / "organization.csv"
CKG = "https://w3id.org/collabkg/ontology#"


def _stored_themes(store) -> dict[str, set[str]]:
    rows = store.query(f"SELECT ?g ?n WHERE {{ ?p <{CKG}grantNumber> ?g ; <{CKG}theme> ?t . "
                       "?t <http://www.w3.org/2004/02/skos/core#notation> ?n }")
    out: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        out[r["g"].value].add(r["n"].value)
    return out


def test_the_table_has_five_themes_each_with_fields_and_a_pattern():
    table = themes.load_table()
    assert [t.notation for t in table] == sorted(
        ["health", "energy-climate", "agriculture-food", "water-environment", "technology-innovation"])
    for t in table:
        assert t.field_prefixes and t.pattern.pattern != "(?!)", t.notation


def test_field_prefixes_match_whole_path_segments():
    health = next(t for t in themes.load_table() if t.notation == "health")
    assert health.matches_field("/21") and health.matches_field("/21/33/117")
    assert not health.matches_field("/213/5") and not health.matches_field("/23/21")


def test_field_paths_follow_the_broader_chain():
    parents = {"a": None, "b": "a", "c": "b"}
    assert themes.field_paths(parents, {"a": "25", "b": "67", "c": "425"})["c"] == "/25/67/425"


def test_hand_labelled_sample_agrees_with_the_mapping(built_store):
    got = _stored_themes(built_store)
    labels = list(csv.DictReader(LABELS.open(encoding="utf-8")))
    assert len(labels) >= 30
    tp = fp = fn = 0
    misses = []
    for row in labels:
        expected = set(filter(None, row["themes"].split(";")))
        found = got.get(row["grant"], set())
        tp, fp, fn = tp + len(expected & found), fp + len(found - expected), fn + len(expected - found)
        if expected != found:
            misses.append(f"{row['acronym']}: expected {sorted(expected)}, got {sorted(found)}")
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"\nhand-labelled sample: {len(labels)} projects, precision {precision:.2f}, recall {recall:.2f}")
    print("\n".join(misses))
    assert recall >= 0.8, misses
    assert precision >= 0.6, misses


def test_coverage_share_of_projects_with_a_theme(built_store):
    with PROJECT_CSV.open(encoding="utf-8", newline="") as f:
        grants = {r["id"] for r in csv.DictReader(f)}
    got = _stored_themes(built_store)
    covered = len(grants & set(got))
    coverage = covered / len(grants)
    print(f"\ntheme coverage: {covered} of {len(grants)} projects ({coverage:.1%})")
    assert set(got) <= grants  # themes only on projects that exist
    assert 0.7 <= coverage < 1.0


def test_theme_assignments_live_in_their_own_graph(built_store):
    rows = list(built_store.query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s <{CKG}theme> ?t }} }}"))
    assert [r["g"].value for r in rows] == [DEFAULT_BASE + "graph/themes/assignments"]


@pytest.mark.parametrize("country", ["TR", "TN", "SA"])
def test_theme_profile_counts_the_country_projects(built_store, country):
    """Projects per theme = the CSV's projects of the country (organization.csv) with that theme."""
    with ORG_CSV.open(encoding="utf-8", newline="") as f:
        mine = {r["project/id"] for r in csv.DictReader(f) if r["address/country"] == country}
    got = _stored_themes(built_store)
    answer = {r["theme"]: r["projects"] for r in catalogue.query("theme-profile", built_store, country=country)}
    assert set(answer) == {t.notation for t in themes.load_table()}
    for theme, n in answer.items():
        assert n == sum(1 for g in mine if theme in got.get(g, ())), theme


def test_theme_partners_are_a_subset_of_all_partners(built_store):
    all_partners = {r["country"]: r["projects"] for r in catalogue.query("partner-countries", built_store, country="SA")}
    health = catalogue.query("theme-partners", built_store, country="SA", theme="health")
    assert health
    for r in health:
        assert 0 < r["projects"] <= all_partners[r["country"]]
