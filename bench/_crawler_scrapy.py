"""Benchmark child: Scrapy 2.19 with a spider equivalent to our config (JSON-LD
fields by name, follow every link, robots.txt, same concurrency, lxml parsing
through parsel). argv: start_url max_pages concurrency out_dir.
Prints one JSON line: pages, records, seconds."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


class ShopSpider(scrapy.Spider):
    name = "shop"

    def __init__(self, start_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [start_url]

    def parse(self, response: Any) -> Any:
        for text in response.xpath('//script[@type="application/ld+json"]/text()').getall():
            data = json.loads(text)
            if data.get("@type") != "Product":
                continue
            offers = _first(data.get("offers")) or {}
            availability = offers.get("availability") or ""
            yield {
                "product_name": data.get("name"),
                "price": offers.get("price"),
                "description": data.get("description"),
                "category": data.get("category"),
                "availability": availability.rsplit("/", 1)[-1] or None,
                "page_url": response.url,
            }
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, callback=self.parse)


def main() -> None:
    start_url, max_pages, concurrency, out_dir = sys.argv[1:5]
    process = CrawlerProcess(
        settings={
            "CONCURRENT_REQUESTS": int(concurrency),
            "CONCURRENT_REQUESTS_PER_DOMAIN": int(concurrency),
            "DOWNLOAD_DELAY": 0,
            "ROBOTSTXT_OBEY": True,
            "USER_AGENT": "Mozilla/5.0 (compatible; DataCollector/1.0)",
            "CLOSESPIDER_PAGECOUNT": int(max_pages) + 1,  # robots.txt counts as a page here
            "FEEDS": {f"{out_dir}/scrapy.jsonl": {"format": "jsonlines"}},
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
        }
    )
    crawler = process.create_crawler(ShopSpider)
    started = time.perf_counter()
    process.crawl(crawler, start_url=start_url)
    process.start()
    seconds = time.perf_counter() - started
    stats = crawler.stats.get_stats() if crawler.stats else {}
    pages = stats.get("response_received_count", 0) - 1  # not robots.txt
    print(json.dumps({"pages": pages, "records": stats.get("item_scraped_count", 0),
                      "seconds": seconds}))  # fmt: skip


if __name__ == "__main__":
    main()
