"""Extraction from fixed pages: schema.org by name, extractors, coercion."""

from __future__ import annotations

import json
from typing import Any

import pytest
from crawler_task import Extractor, Page, coerce
from crawler_task._extract import CoercionError
from task_config.crawler import CrawlerConfig

URL = "http://shop.example/p/1"


def config(**keys: Any) -> CrawlerConfig:
    return CrawlerConfig.model_validate({"target_urls": [URL], **keys})


def html_page(body: str, url: str = URL, charset: str | None = "utf-8") -> Page:
    return Page(url, 200, "text/html", body.encode("utf-8"), charset)


def jsonld(data: Any) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


GUIDE_FIELDS = ["product_name", "price", "description", "category", "availability"]


def test_graph_and_nested_products_by_name():
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "name": "Shop page"},
            {"@type": "ItemList", "itemListElement": [
                {"@type": "ListItem", "item": {"@type": "Product", "name": "A", "offers": [
                    {"@type": "Offer", "price": 1.5, "availability": "http://schema.org/InStock"}]}},
                {"@type": "ListItem", "item": {"@type": "Product", "name": "B",
                    "category": {"@type": "Thing", "name": "Tools"},
                    "offers": {"@type": "AggregateOffer", "lowPrice": "2"}}},
            ]},
            {"@type": "Organization", "name": "Shop Inc"},
        ],
    }  # fmt: skip
    records, _ = Extractor(config(data_fields=GUIDE_FIELDS)).extract(html_page(jsonld(graph)))
    assert records == [
        {"product_name": "A", "price": 1.5, "description": None, "category": None,
         "availability": "InStock", "page_url": URL},
        {"product_name": "B", "price": "2", "description": None, "category": "Tools",
         "availability": None, "page_url": URL},
    ]  # fmt: skip


def test_other_types_when_a_page_has_no_products():
    article = {
        "@type": "NewsArticle",
        "headline": "Hi",
        "author": {"@type": "Person", "name": "Al"},
    }
    records, _ = Extractor(config(data_fields=["title", "author", "date_published"])).extract(
        html_page(jsonld(article) + '<script type="application/ld+json">{broken</script>')
    )
    assert records == [{"title": "Hi", "author": "Al", "date_published": None, "page_url": URL}]


def test_microdata_with_nested_items_and_value_attributes():
    body = (
        '<div itemscope itemtype="http://schema.org/Product"><span itemprop="name"> Lamp </span>'
        '<img itemprop="image" src="/l.png"><div itemprop="brand" itemscope itemtype="https://schema.org/Brand">'
        '<span itemprop="name">Lumo</span></div>'
        '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        '<meta itemprop="priceCurrency" content="EUR"><span itemprop="price">9.50</span>'
        '<link itemprop="availability" href="https://schema.org/PreOrder"></div></div>'
    )
    fields = ["product_name", "price", "currency", "availability", "brand", "image", "name"]
    [record] = Extractor(config(data_fields=fields)).extract(html_page(body))[0]
    assert record == {
        "product_name": "Lamp", "price": "9.50", "currency": "EUR", "availability": "PreOrder",
        "brand": "Lumo", "image": "/l.png", "name": "Lamp", "page_url": URL,
    }  # fmt: skip


def test_pages_without_structured_data_give_no_records():
    records, _ = Extractor(config(data_fields=GUIDE_FIELDS)).extract(html_page("<h1>Hello</h1>"))
    assert records == []


def test_links_follow_css_pattern_base_and_normalisation():
    body = (
        '<base href="/shop/"><nav class="pages"><a href="p2">2</a><a href="p3#x">3</a></nav>'
        '<a class="d" href="item/1">1</a><a href="mailto:x@y.z">m</a><span class="d">no href</span>'
    )
    nav = Extractor(config(data_fields=["name"], follow_links={"css": "nav.pages"}))
    assert nav.extract(html_page(body))[1] == [
        "http://shop.example/shop/p2", "http://shop.example/shop/p3",
    ]  # fmt: skip
    pattern = Extractor(config(data_fields=["name"], follow_links={"pattern": r"/item/\d+$"}))
    assert pattern.extract(html_page(body))[1] == ["http://shop.example/shop/item/1"]
    none = Extractor(config(data_fields=["name"]))
    assert none.extract(html_page(body))[1] == []


def test_charset_from_meta_when_the_header_has_none():
    body = '<meta charset="iso-8859-1"><h1>caf\xe9</h1>'.encode("latin-1")
    page = Page(URL, 200, "text/html", body, None)
    [record] = Extractor(config(data_fields={"h": {"css": "h1"}})).extract(page)[0]
    assert record["h"] == "café"


@pytest.mark.parametrize(
    ("value", "wanted", "expected"),
    [
        ("€1,299.50", "float", 1299.5),
        ("12 items", "int", 12),
        ("4.0", "int", 4),
        (7, "float", 7.0),
        (3.5, "str", "3.5"),
        ({"a": 1}, "str", '{"a": 1}'),
        (None, "int", None),
        ("x", None, "x"),
        ("-0.5", "float", -0.5),
    ],
)
def test_coerce(value: Any, wanted: str | None, expected: Any):
    assert coerce(value, wanted) == expected


@pytest.mark.parametrize(("value", "wanted"), [("none", "int"), ("4.5", "int"), (True, "float")])
def test_coerce_refuses(value: Any, wanted: str):
    with pytest.raises(CoercionError):
        coerce(value, wanted)


def test_json_page_is_not_parsed_as_html():
    page = Page(URL, 200, "application/ld+json", b'{"name": "N", "n": [1, 2]}')
    extractor = Extractor(config(data_fields={"n": {"jsonpath": "$.n[*]", "all": True}}))
    assert extractor.extract(page) == ([{"n": [1, 2], "page_url": URL}], [])
