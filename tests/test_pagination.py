"""The page reader: planning, links, concurrency, and lists that move during a load."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from apivideo_insights._http import Http
from apivideo_insights._pagination import (
    AUTO_PROGRESS_MIN,
    Job,
    link_params,
    plan_pages,
    progress_enabled,
    read_many,
    read_pages,
)


class TestPlan:
    def test_pages_total(self):
        assert plan_pages({"currentPage": 1, "pagesTotal": 3}) == [2, 3]
        assert plan_pages({"currentPage": 1, "pagesTotal": 1}) == []
        assert plan_pages({"currentPage": 1, "pagesTotal": 0, "itemsTotal": 0}) == []

    def test_items_total_without_pages_total(self):
        assert plan_pages({"currentPage": 1, "itemsTotal": 51, "pageSize": 25}) == [2, 3]

    def test_only_a_next_link(self):
        links = [{"rel": "next", "uri": "/x?currentPage=2"}]
        assert plan_pages({"currentPage": 1, "links": links}) == [2]
        assert plan_pages({"currentPage": 2, "links": []}) == []
        assert plan_pages(None) == []

    def test_link_params_relative_and_absolute(self):
        rel = link_params("/videos?currentPage=2&pageSize=25")
        absolute = link_params("https://ws.api.video/videos?currentPage=2&pageSize=25")
        assert rel == absolute == [("currentPage", "2"), ("pageSize", "25")]

    def test_progress_policy(self):
        assert progress_enabled(False, 10_000) is False
        assert progress_enabled(True, 1) is True
        assert progress_enabled(None, AUTO_PROGRESS_MIN) is False


class _List(BaseHTTPRequestHandler):
    """A list endpoint whose content the test can change between requests."""

    items: ClassVar[list[str]] = []
    on_request = None
    log: ClassVar[list[tuple[str, int]]] = []
    next_only = False
    absolute = ""

    def do_GET(self):
        cls = type(self)
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        page = int(query.get("currentPage", ["1"])[0])
        size = int(query.get("pageSize", ["25"])[0])
        cls.log.append((url.path, page))
        items = list(cls.items)
        if cls.on_request is not None:
            cls.on_request(page)
        total = len(items)
        pages = -(-total // size)
        data = [{"id": i, "n": k} for k, i in enumerate(items[(page - 1) * size : page * size])]
        links = [{"rel": "self", "uri": f"{cls.absolute}{url.path}?currentPage={page}"}]
        if page < pages:
            uri = f"{cls.absolute}{url.path}?currentPage={page + 1}&pageSize={size}"
            links.append({"rel": "next", "uri": uri})
        pagination = {"currentPage": page, "pageSize": size, "links": links}
        if not cls.next_only:
            pagination.update(pagesTotal=pages, itemsTotal=total, currentPageItems=len(data))
        body = json.dumps({"data": data, "pagination": pagination}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-RateLimit-Limit", "1000000")
        self.send_header("X-RateLimit-Remaining", "999999")
        self.send_header("X-RateLimit-Retry-After", "60")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def listing():
    _List.items = [f"it{i:02d}" for i in range(50)]
    _List.on_request = None
    _List.log = []
    _List.next_only = False
    _List.absolute = ""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _List)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    yield Http("k" * 20, url, auth="basic", cache=None)
    server.shutdown()
    server.server_close()


def _ids(result):
    return [item["id"] for item in result.items]


class TestRead:
    @pytest.mark.parametrize("workers", [1, 8])
    def test_all_pages_in_order(self, listing, workers):
        result = read_pages(listing, "/items", key="id", page_size=10, max_workers=workers)
        assert _ids(result) == _List.items
        assert result.pages == 5 and result.total == 50 and result.consistent
        assert sorted(p for _, p in _List.log) == [1, 2, 3, 4, 5]

    def test_filters_stay_on_every_page(self, listing):
        read_pages(listing, "/items", [("title", "a b")], key="id", page_size=25)
        assert len(_List.log) == 2

    def test_relative_and_absolute_next_links(self, listing):
        _List.next_only = True
        result = read_pages(listing, "/items", key="id", page_size=10)
        assert _ids(result) == _List.items
        # Absolute links naming another host are re-based onto ours (never followed out).
        _List.absolute = "https://ws.api.video"
        _List.log = []
        result = read_pages(listing, "/items", key="id", page_size=10)
        assert _ids(result) == _List.items
        assert [p for _, p in _List.log] == [1, 2, 3, 4, 5]

    def test_deletion_during_the_load_leaves_no_gap(self, listing):
        state = {"done": False}

        def delete_once(page):
            if page == 1 and not state["done"]:
                state["done"] = True
                _List.items.remove("it05")  # everything after it shifts one place left

        _List.on_request = delete_once
        result = read_pages(listing, "/items", key="id", page_size=10, max_workers=1)
        assert _ids(result) == [i for i in _List.items]
        assert "it10" in _ids(result) and "it05" not in _ids(result)
        assert result.rounds == 2 and result.consistent

    def test_insertion_during_the_load_leaves_no_duplicate(self, listing):
        state = {"done": False}

        def insert_once(page):
            if page == 1 and not state["done"]:
                state["done"] = True
                _List.items.insert(0, "new")  # everything shifts one place right

        _List.on_request = insert_once
        result = read_pages(listing, "/items", key="id", page_size=10, max_workers=4)
        ids = _ids(result)
        assert len(ids) == len(set(ids)) == 51
        assert set(ids) == set(_List.items)

    def test_a_list_that_never_settles_keeps_everything_once(self, listing):
        counter = {"n": 0}

        def churn(page):
            counter["n"] += 1
            _List.items.insert(0, f"new{counter['n']:03d}")

        _List.on_request = churn
        result = read_pages(listing, "/items", key="id", page_size=10, max_workers=2)
        ids = _ids(result)
        assert len(ids) == len(set(ids))
        assert {f"it{i:02d}" for i in range(50)} <= set(ids)
        assert not result.consistent and result.rounds == 3

    def test_many_jobs_share_one_pool_and_keep_their_slots(self, listing):
        jobs = [Job("/items", (("n", str(i)),), key="id") for i in range(6)]
        jobs.append(Job("/broken-but-answered", key="id"))
        results = read_many(listing, jobs, page_size=20, max_workers=3)
        assert len(results) == 7
        assert all(_ids(r) == _List.items for r in results)

    def test_page_size_is_checked(self, listing):
        with pytest.raises(ValueError, match="page_size"):
            read_pages(listing, "/items", page_size=1000)
