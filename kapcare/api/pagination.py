from rest_framework.pagination import DjangoPaginator, PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    known_count = None

    def paginate_queryset(self, queryset, request, view=None, *, count=None):
        """`count`: the number of rows when the caller has it cheaper than `queryset.count()` (e.g. from an index)."""
        self.known_count = count
        return super().paginate_queryset(queryset, request, view)

    def django_paginator_class(self, object_list, per_page):
        paginator = DjangoPaginator(object_list, per_page)
        if self.known_count is not None:
            paginator.count = self.known_count  # a cached_property: set, it is never computed
        return paginator
