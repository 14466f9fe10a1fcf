"""What refusing an appeal action raises (the workflow re-exports these: `workflow.TransitionError` etc.)."""

from django.core.exceptions import PermissionDenied


class WorkflowError(Exception):
    status_code = 400


class TransitionError(WorkflowError):
    """The action is not possible in the appeal's current state, or its input is wrong."""


class StaleVersion(WorkflowError):
    status_code = 409


class IdempotencyConflict(WorkflowError):
    """The Idempotency-Key was already used for a different request (as payment APIs answer: 422)."""

    status_code = 422


class NotAllowed(PermissionDenied):
    status_code = 403
