"""Every list of the API in pages: `{"count", "next", "previous", "results"}`, 50 a page by
default (`page_size`, at most 500), `page` from 1. Its own module: REST framework imports it
while it loads its generic views, so it may import nothing of ours that imports those."""

from rest_framework.pagination import PageNumberPagination


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
