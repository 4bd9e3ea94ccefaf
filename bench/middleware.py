"""Bench only: the number of SQL queries each request ran, in the `X-Bench-Queries` response header."""

from django.db import connections


class QueryCountMiddleware:
    """Outermost, so it counts every query of the request, the session save and the audit INSERT included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connections["default"].execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Bench-Queries"] = str(count)
        return response
