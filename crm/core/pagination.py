"""List pagination shared by every endpoint."""

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most 200); the rows are under ``results``."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200
