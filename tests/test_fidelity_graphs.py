"""Issue 14 (items 1, 3, 5, 6, 7) and issue 18 item 4: every source fact once, nothing dropped.

One store is built here from the bundled data plus an OpenAlex author file repeated under another
name (works repeated across author files), and checked against the source files read independently
(lxml over the CORDIS XML, json over OpenAlex).
"""
from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections import Counter, defaultdict

import pyoxigraph as ox
import pytest
from lxml import etree

from conftest import CORDIS_ZIP, OPENALEX_DIR, XML_SAMPLE
from collabkg.namespaces import INSTANCE_SEGMENTS, IRIs, RDFS, normalise_doi, sparql_prefixes
from collabkg.namespaces import DEFAULT_BASE

LABEL = RDFS + "label"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from collabkg.importing import build
    from collabkg.store import EmbeddedStore

    tmp = tmp_path_factory.mktemp("fidelity")
    repeated = tmp / "repeat-A5104094821.json"  # the same works again, in another author file
    shutil.copy(OPENALEX_DIR / "A5104094821.json", repeated)
    inputs = [CORDIS_ZIP, *sorted(OPENALEX_DIR.glob("*.json")), repeated]
    with EmbeddedStore(tmp / "store") as store:
        summary = build(store, inputs, progress=False, err=io.StringIO())
    assert not summary.rejected
    return tmp / "store"


@pytest.fixture(scope="module")
def raw(store_path):
    return ox.Store.read_only(str(store_path))


def rows(raw, q):
    res = raw.query(sparql_prefixes() + q, use_default_graph_as_union=True)
    if isinstance(res, ox.QueryBoolean):
        return bool(res)
    names = [v.value for v in res.variables]
    return [{n: (s[n].value if s[n] is not None else None) for n in names} for s in res]


def cordis_publications():
    """(grant, result id, DOI, title) of every publication result, read with lxml from the zip."""
    out = []
    with zipfile.ZipFile(CORDIS_ZIP) as z:
        for name in z.namelist():
            root = etree.fromstring(z.read(name))
            grant = root.findtext("id").strip()
            for res in root.findall("relations/associations/result"):
                codes = {c.text for c in res.iterfind("relations/categories/category[@classification='collection']/code")}
                if "/publication" in codes or res.findtext("identifiers/doi"):
                    out.append((grant, res.findtext("id").strip(), normalise_doi(res.findtext("identifiers/doi")), res.findtext("title")))
    return out


# ---------------------------------------------------------------- item 3: one graph per triple


def test_no_triple_occurs_in_two_named_graphs(raw):
    where = defaultdict(set)
    for q in raw:
        where[(q.subject, q.predicate, q.object)].add(q.graph_name.value)
    twice = {t: gs for t, gs in where.items() if len(gs) > 1}
    assert not twice, f"{len(twice)} triples in several graphs, e.g. {next(iter(twice.items()))}"


def test_every_class_membership_is_counted_once(raw):
    counts = rows(raw, "SELECT ?c (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?d) WHERE { ?s a ?c } GROUP BY ?c")
    assert len(counts) > 15
    bad = {r["c"]: (r["n"], r["d"]) for r in counts if r["n"] != r["d"]}
    assert not bad, bad


def test_a_work_has_one_title_and_one_year(raw):
    for prop in ("title", "publicationYear", "rdfs:label"):
        p = prop if ":" in prop else f"ckg:{prop}"
        many = rows(raw, f"SELECT ?w (COUNT(*) AS ?n) WHERE {{ ?w a ckg:Work ; {p} ?v }} GROUP BY ?w HAVING (COUNT(*) > 1)")
        assert not many, (prop, many[:3])


def test_repeated_works_are_one_work_each(raw):
    works = json.loads((OPENALEX_DIR / "A5104094821.json").read_text(encoding="utf-8"))["works"]
    iris = IRIs()
    for w in works:
        iri = iris.work(doi=normalise_doi(w["doi"]) if w["doi"] else None, openalex_id=w["id"].rsplit("/", 1)[1])
        n = rows(raw, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{iri}> a ckg:Work }}")[0]["n"]
        assert n == "1", iri


def test_a_part_named_only_as_a_parent_keeps_its_title(raw):
    """HORIZON.2.5 is a titled legal basis in some records and a bare parent code in others."""
    labels = rows(raw, f"SELECT ?l WHERE {{ <{IRIs().programme('HORIZON.2.5')}> rdfs:label ?l }}")
    assert len(labels) == 1 and labels[0]["l"] != "HORIZON.2.5"


def test_vocabulary_terms_live_in_their_own_replaceable_graphs(raw):
    iris = IRIs()
    names = {g.value for g in raw.named_graphs()}
    assert iris.graph("cordis", "vocabulary") not in names and iris.graph("openalex", "vocabulary") not in names
    assert iris.entity_graph("cordis", "programme", "HORIZON.1.1") in names
    assert iris.entity_graph("cordis", "nuts", "TR100") in names


def test_a_corrected_record_replaces_a_bad_vocabulary_description(tmp_path):
    """Issue 18 item 4: mojibake in a NUTS region's name is gone once the correct record is re-imported."""
    from collabkg.importing import ingest
    from collabkg.store import EmbeddedStore

    src = next(p for p in sorted(XML_SAMPLE.glob("*.xml")) if b"relatedNutsCode" in p.read_bytes())
    text = src.read_text(encoding="utf-8")
    root = etree.fromstring(src.read_bytes())
    region = next(r for r in root.iter("region") if r.get("type") == "relatedNutsCode")
    good = (region.findtext("name") or "").strip()
    assert good, "the sample record names a NUTS region"
    bad_file = tmp_path / "bad" / src.name
    bad_file.parent.mkdir()
    bad_file.write_text(text.replace(f">{good}<", ">MOJIBAKE lÃ¤n<"), encoding="utf-8")
    q = "SELECT ?l WHERE { ?o ckg:nutsRegion ?n . ?n rdfs:label ?l }"
    with EmbeddedStore(tmp_path / "store") as store:
        ingest(store, [bad_file], progress=False, err=io.StringIO())
        assert any("MOJIBAKE" in r["l"].value for r in store.query(sparql_prefixes() + q))
        ingest(store, [src], progress=False, err=io.StringIO())
        labels = {r["l"].value for r in store.query(sparql_prefixes() + q)}
    assert good in labels and not any("MOJIBAKE" in l for l in labels)


# ---------------------------------------------------------------- item 1: every publication result


def test_every_cordis_publication_result_is_in_the_graph(raw):
    source = cordis_publications()
    assert len(source) > 4000 and sum(1 for *_, d, _ in source if d is None) > 400  # ~490 without a DOI
    stored = {(r["g"], r["id"], r["doi"]) for r in rows(raw, """SELECT ?g ?id ?doi WHERE { ?p ckg:grantNumber ?g ;
        ckg:publicationResult ?r . ?r a ckg:PublicationResult ; ckg:resultId ?id . OPTIONAL { ?r ckg:doi ?doi } }""")}
    assert stored == {(g, i, d) for g, i, d, _ in source}
    works = {(r["g"], r["w"]) for r in rows(raw, """SELECT DISTINCT ?g ?w WHERE { ?p ckg:grantNumber ?g ; ckg:hasPublication ?w .
        ?w a ckg:Work }""")}
    iris = IRIs()
    assert {(g, iris.work(doi=d)) for g, _, d, _ in source if d} == works


def test_two_results_about_one_doi_keep_both_titles(raw):
    """Project 101059232 states DOI 10.5281/zenodo.11090446 for two results with different titles."""
    doi = "10.5281/zenodo.11090446"
    titles = {(g, i): t for g, i, d, t in cordis_publications() if d == doi}
    assert len(set(titles.values())) == 2
    kept = {r["t"] for r in rows(raw, f"""SELECT ?t WHERE {{ ?r a ckg:PublicationResult ; ckg:title ?t ;
        ckg:work <{IRIs().work(doi=doi)}> }}""")}
    assert len(kept) == 2
    assert kept == set(titles.values())
    assert len(rows(raw, f"SELECT ?t WHERE {{ <{IRIs().work(doi=doi)}> ckg:title ?t }}")) == 1


# ---------------------------------------------------------------- item 5: double escapes


def test_double_escaped_text_is_decoded(raw):
    for needle in ("&amp;", "&lt;", "&gt;", "&#"):
        hits = rows(raw, f'SELECT ?s ?p ?o WHERE {{ ?s ?p ?o FILTER(isLiteral(?o) && CONTAINS(STR(?o), "{needle}")) }} LIMIT 3')
        assert not hits, hits
    # CORDIS: <journalTitle>ACS Applied Materials &amp;amp; Interfaces</journalTitle>
    assert rows(raw, 'ASK { ?w ckg:journal "ACS Applied Materials & Interfaces" }')
    # CORDIS: a title with "&amp;lt;5 years"
    assert rows(raw, 'SELECT ?r WHERE { ?r ckg:title ?t FILTER(CONTAINS(?t, "aged <5 years")) } LIMIT 1')


# ---------------------------------------------------------------- item 6: linked-data basics


@pytest.mark.parametrize("cls", ["Project", "Organisation", "Work", "Person", "PublicationResult", "Call", "Topic", "NutsRegion"])
def test_every_instance_has_a_label(raw, cls):
    unlabelled = rows(raw, f"SELECT ?s WHERE {{ ?s a ckg:{cls} FILTER NOT EXISTS {{ ?s rdfs:label ?l }} }} LIMIT 3")
    assert not unlabelled, unlabelled


def test_named_institutions_have_a_label_and_pillars_are_named(raw):
    assert not rows(raw, "SELECT ?s WHERE { ?s a ckg:Institution ; ckg:displayName ?n FILTER NOT EXISTS { ?s rdfs:label ?n } }")
    iris = IRIs()
    for code, name in (("HORIZON", "Horizon Europe"), ("HORIZON.1", "Excellent Science"), ("HORIZON.2", None),
                       ("HORIZON.3", None), ("HORIZON.4", None), ("HORIZON.2.5", None), ("EURATOM", None)):
        labels = rows(raw, f"SELECT ?l WHERE {{ <{iris.programme(code)}> rdfs:label ?l }}")
        if code == "EURATOM" and not rows(raw, f"ASK {{ <{iris.programme(code)}> ?p ?o }}"):
            continue
        assert len(labels) == 1 and (name is None or labels[0]["l"] == name), (code, labels)


def test_a_project_states_its_participations(raw):
    n = rows(raw, """SELECT (COUNT(*) AS ?n) WHERE { ?pt a ckg:Participation ; ckg:project ?p . ?p ckg:hasParticipation ?pt }""")
    total = rows(raw, "SELECT (COUNT(*) AS ?n) WHERE { ?pt a ckg:Participation }")
    assert n == total and int(total[0]["n"]) > 17000


# ---------------------------------------------------------------- item 7: one IRI authority


def test_every_minted_iri_segment_has_an_export_prefix(raw):
    from collabkg.export import prefix_table

    seen = Counter()
    for q in raw:
        for term in (q.subject, q.object, q.graph_name):
            if isinstance(term, ox.NamedNode) and term.value.startswith(DEFAULT_BASE):
                seen[term.value[len(DEFAULT_BASE):].split("/", 1)[0]] += 1
    minted = set(seen) - {"graph"}
    assert minted <= set(INSTANCE_SEGMENTS), minted - set(INSTANCE_SEGMENTS)
    namespaces = {ns for _, ns in prefix_table(DEFAULT_BASE)}
    assert {DEFAULT_BASE + s + "/" for s in minted} <= namespaces


def test_one_doi_form_for_both_sources():
    assert normalise_doi("https://doi.org/10.1016/J.SIMPA.2024.100682") == "10.1016/j.simpa.2024.100682"
    assert normalise_doi("doi:10.1/x") == "10.1/x" and normalise_doi("not a doi") is None
    from collabkg.sources import openalex_json

    assert openalex_json.doi("https://doi.org/10.1016/J.X", "doi") == "10.1016/j.x"
