"""Errors a user can cause; each message is one sentence meant for that user."""

from __future__ import annotations


class UsruError(Exception):
    """A problem the user can fix; str(error) says what to do."""

    exit_code = 2


class SourcesError(UsruError):
    """The sources folder is missing, empty or unreadable."""


class IndexError_(UsruError):
    """The index is missing, damaged or from an incompatible version."""


class QuestionError(UsruError):
    """The question is empty, too long or has no words; `reason` says which, for front ends' own wording."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class IndexLockedError(UsruError):
    """Another indexer holds the index lock."""


class ArticleError(Exception):
    """One article could not be read; the indexer skips it with this reason."""


class OutsideLinkError(ArticleError):
    """The file is a link to somewhere outside the sources folder; it is never read or kept."""
