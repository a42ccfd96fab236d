"""Domain errors of the ledger. Each names the field it concerns when there is one."""

from __future__ import annotations


class LedgerError(Exception):
    code = "ledger_error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, details=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message, "field": self.field}
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidMovement(LedgerError):
    code = "invalid_movement"
    status = 422


class InvalidValue(LedgerError):
    """A well-formed value the operation cannot take: a date in the past, a
    quantity beyond what the document allows."""

    code = "invalid_request"
    status = 422


class UnknownSku(LedgerError):
    code = "unknown_sku"
    status = 422


class UnknownNode(LedgerError):
    code = "unknown_node"
    status = 422


class NotFound(LedgerError):
    code = "not_found"
    status = 404


class InsufficientStock(LedgerError):
    """Raised once for a posting, naming every (sku, node, bucket) that falls short."""

    code = "insufficient_stock"
    status = 409

    def __init__(self, shortages: list[dict]):
        names = ", ".join(
            f"{s['sku']}@{s['node']} {s['bucket']} has {s['have']}, needs {s['need']}"
            for s in shortages
        )
        super().__init__(f"insufficient stock: {names}", field="qty", details=shortages)
        self.shortages = shortages


class NotInTransit(InsufficientStock):
    """A transfer receipt asks for more than its route has in transit, naming every route.

    The units may be in the destination's ``inbound`` bucket, but on a purchase
    order or on another route, so they are not this receipt's to take. ``field``
    is ``from_node`` when nothing at all is in transit on a route (that node sent
    nothing still open to the destination), else ``qty``.
    """

    code = "not_in_transit"

    def __init__(self, shortfalls: list[dict]):
        names = ", ".join(
            f"{s['sku']} from {s['from_node']} to {s['to_node']} has {s['have']} in transit, "
            f"needs {s['need']}" for s in shortfalls)
        field = "from_node" if any(s["have"] == 0 for s in shortfalls) else "qty"
        LedgerError.__init__(self, f"not in transit: {names}", field=field, details=shortfalls)
        self.shortages = shortfalls


class IdempotencyConflict(LedgerError):
    code = "idempotency_conflict"
    status = 422

    def __init__(self, key: str):
        super().__init__(f"idempotency key {key!r} was used with a different request",
                         field="idempotency_key")


class IdempotencyInProgress(LedgerError):
    code = "idempotency_in_progress"
    status = 409

    def __init__(self, key: str):
        super().__init__(f"a request with idempotency key {key!r} is still in progress",
                         field="idempotency_key")


class ImportErrors(LedgerError):
    code = "import_errors"
    status = 422

    def __init__(self, errors: list[dict], valid_rows: list | None = None):
        """``valid_rows``: the rows of a file that passed their own checks, when every
        row was checked (so a caller can check their references in the same run)."""
        lines = "; ".join(f"row {e['row']}, {e['field']}: {e['message']}" for e in errors[:20])
        more = f" (+{len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s): {lines}{more}", details=errors)
        self.errors = errors
        self.valid_rows = valid_rows
