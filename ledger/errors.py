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

    def __init__(self, errors: list[dict]):
        lines = "; ".join(f"row {e['row']}, {e['field']}: {e['message']}" for e in errors[:20])
        more = f" (+{len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s): {lines}{more}", details=errors)
        self.errors = errors
