"""Fields by name out of schema.org data: JSON-LD first, microdata otherwise.

The items of a page are its schema.org things that are not page furniture
(WebPage, BreadcrumbList, ItemList... are looked through, not returned); when a
page has Products, only the Products. A field name is looked up through
FIELD_PATHS (the guide's names: product_name -> name, price -> offers.price,
availability -> offers.availability, ...), then as camelCase, then as given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

FIELD_PATHS: dict[str, tuple[str, ...]] = {
    "product_name": ("name",),
    "title": ("name", "headline"),
    "price": ("offers.price", "offers.lowPrice", "price"),
    "low_price": ("offers.lowPrice",),
    "high_price": ("offers.highPrice",),
    "currency": ("offers.priceCurrency", "priceCurrency"),
    "price_currency": ("offers.priceCurrency", "priceCurrency"),
    "availability": ("offers.availability", "availability"),
    "condition": ("offers.itemCondition", "itemCondition"),
    "seller": ("offers.seller",),
    "brand": ("brand",),
    "rating": ("aggregateRating.ratingValue",),
    "review_count": ("aggregateRating.reviewCount", "aggregateRating.ratingCount"),
    "author": ("author",),
    "published": ("datePublished",),
}
STRUCTURAL_TYPES = frozenset(
    {
        "WebSite", "WebPage", "CollectionPage", "ItemPage", "SearchResultsPage",
        "BreadcrumbList", "ItemList", "ListItem", "OfferCatalog", "SiteNavigationElement",
        "SearchAction", "EntryPoint", "WPHeader", "WPFooter", "WPSideBar",
    }
)  # fmt: skip
PRODUCT_TYPES = frozenset({"Product", "IndividualProduct", "ProductModel", "SomeProducts"})
_SCHEMA_PREFIXES = ("https://schema.org/", "http://schema.org/")
# Microdata: the attribute that carries an element's value (HTML Living Standard).
_VALUE_ATTR = {
    "meta": "content", "a": "href", "area": "href", "link": "href", "img": "src",
    "audio": "src", "video": "src", "source": "src", "iframe": "src", "embed": "src",
    "track": "src", "object": "data", "data": "value", "meter": "value", "time": "datetime",
}  # fmt: skip


def _types(item: dict[str, Any]) -> set[str]:
    raw = item.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    return {_short(str(name)) for name in names if name}


def _short(value: str) -> str:
    for prefix in _SCHEMA_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def _candidates(node: Any) -> Iterator[dict[str, Any]]:
    """The first non-structural typed objects on every path through the data."""
    if isinstance(node, list):
        for child in node:
            yield from _candidates(child)
    elif isinstance(node, dict):
        types = _types(node)
        if types and not types <= STRUCTURAL_TYPES:
            yield node
            return
        for key, child in node.items():
            if key != "@context":
                yield from _candidates(child)


def _pick(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    products = [item for item in items if _types(item) & PRODUCT_TYPES]
    return products or items


def jsonld_blocks(tree: LexborHTMLParser) -> Iterator[Any]:
    for script in tree.css('script[type="application/ld+json"]'):
        try:
            yield json.loads(script.text(deep=True))
        except ValueError:
            continue  # a broken block on someone's page is not our error


def _microdata_value(element: LexborNode) -> Any:
    attrs = element.attributes
    if "itemscope" in attrs:
        return _microdata_item(element)
    attr = _VALUE_ATTR.get(element.tag or "")
    if attr and attrs.get(attr) is not None:
        return attrs[attr]
    if "content" in attrs and attrs["content"] is not None:
        return attrs["content"]
    return " ".join(element.text(deep=True).split())


def _microdata_item(scope: LexborNode) -> dict[str, Any]:
    item: dict[str, Any] = {}
    itemtype = scope.attributes.get("itemtype")
    if itemtype:
        item["@type"] = [_short(t) for t in itemtype.split()]
    for element in scope.css("[itemprop]"):
        owner = element.parent
        while owner is not None and "itemscope" not in owner.attributes:
            owner = owner.parent
        if owner is None or owner.mem_id != scope.mem_id:
            continue  # belongs to a nested item
        value = _microdata_value(element)
        for name in (element.attributes.get("itemprop") or "").split():
            item.setdefault(name, value)
    return item


def microdata_items(root: LexborHTMLParser | LexborNode) -> list[dict[str, Any]]:
    tops = [el for el in root.css("[itemscope]") if "itemprop" not in el.attributes]
    if isinstance(root, LexborNode) and "itemscope" in root.attributes:
        tops.insert(0, root)
    return [_microdata_item(el) for el in tops]


def page_items(
    root: LexborHTMLParser | LexborNode, jsonld: list[Any] | None = None
) -> list[dict[str, Any]]:
    """schema.org items of a page (or of one repeated element of it)."""
    if jsonld is None:
        jsonld = (
            list(jsonld_blocks(root))
            if isinstance(root, LexborHTMLParser)
            else [_load(s.text(deep=True)) for s in root.css('script[type="application/ld+json"]')]
        )
    items = _pick([c for block in jsonld for c in _candidates(block)])
    if items:
        return items
    return _pick([c for block in microdata_items(root) for c in _candidates(block)])


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _simplify(value: Any) -> Any:
    while isinstance(value, list):
        if not value:
            return None
        value = value[0]
    if isinstance(value, dict):
        for key in ("name", "@id", "url", "value"):
            if key in value:
                return _simplify(value[key])
        return value
    if isinstance(value, str):
        return _short(value.strip())
    return value


def _resolve(item: dict[str, Any], path: str) -> Any:
    value: Any = item
    for key in path.split("."):
        while isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@lru_cache(maxsize=1024)
def _paths(field: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*FIELD_PATHS.get(field, ()), _camel(field), field)))


def lookup(item: dict[str, Any], field: str) -> Any:
    """The value of a named field in a schema.org item, or None."""
    for path in _paths(field):
        value = _simplify(_resolve(item, path))
        if value is not None and value != "":
            return value
    return None
