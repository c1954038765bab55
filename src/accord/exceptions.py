"""Every error Accord raises on purpose, in one tree.

::

    AccordError
    ├── ConfigError (ValueError)            a setting or a node directory is wrong
    ├── NodeNotFound (FileNotFoundError)     no node at ACCORD_HOME: run `accord init`
    ├── InputError (ValueError)              input that cannot be read as STIX at all
    │   ├── MalformedJSON                    not JSON: file and byte offset
    │   ├── InputTooLarge                    over a size or depth limit
    │   └── NotStix                          JSON, but neither a bundle nor an object
    ├── InvalidObject (ValueError)           one STIX object breaks the specification:
    │                                        object id, property, reason
    ├── StrictImportFailed                   --strict and at least one object was invalid
    ├── StoreError                           the database refused or failed
    │   ├── SchemaOutOfDate                  database older/newer than this Accord
    │   ├── UnknownCollection (KeyError)     no collection with that id or title
    │   └── UnknownMember (KeyError)         no member with that name
    └── NotFound (LookupError)               no object with that id

Errors carry fields, not only a message, so that edges (CLI, TAXII, web) can
render them in their own shape without parsing strings.
"""

from __future__ import annotations


class AccordError(Exception):
    """Base of every error Accord raises on purpose."""


class ConfigError(AccordError, ValueError):
    """A setting has a bad value or the node directory is unusable.

    Args:
        name: the setting (``ACCORD_...``) or path at fault.
        reason: what is wrong with it.
    """

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


class NodeNotFound(AccordError, FileNotFoundError):
    """There is no initialised node where one was expected."""

    def __init__(self, home: str) -> None:
        self.home = home
        super().__init__(f"no Accord node at {home}: run `accord init {home}` first")


class InputError(AccordError, ValueError):
    """Input that cannot be read as STIX at all.

    Args:
        source: the file name (or ``<stdin>``).
        reason: what is wrong.
        offset: byte offset in the (decompressed) input, where known.
        line: 1-based line number, where known (JSON lines).
    """

    def __init__(
        self,
        source: str,
        reason: str,
        *,
        offset: int | None = None,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.reason = reason
        self.offset = offset
        self.line = line
        where = source
        if line is not None:
            where += f", line {line}"
        if offset is not None:
            where += f", byte {offset}"
        super().__init__(f"{where}: {reason}")


class MalformedJSON(InputError):
    """The bytes are not JSON (or not UTF-8)."""


class InputTooLarge(InputError):
    """The input breaks a size or nesting limit."""


class NotStix(InputError):
    """Valid JSON, but not a STIX bundle, object or list of objects."""


class InvalidObject(AccordError, ValueError):
    """One STIX object breaks the STIX 2.1 specification.

    Args:
        object_id: the object's ``id`` as given (``None`` if it has none).
        prop: the property at fault (``None`` for the object as a whole).
        reason: what is wrong, citing the specification where useful.
    """

    def __init__(self, object_id: str | None, prop: str | None, reason: str) -> None:
        self.object_id = object_id
        self.prop = prop
        self.reason = reason
        subject = object_id or "<object without id>"
        if prop:
            subject += f" .{prop}"
        super().__init__(f"{subject}: {reason}")


class StrictImportFailed(AccordError):
    """A ``--strict`` import met invalid objects; nothing of the input was stored.

    Args:
        errors: the invalid objects (all of them found before stopping).
    """

    def __init__(self, errors: list[InvalidObject]) -> None:
        self.errors = errors
        first = errors[0] if errors else None
        super().__init__(
            f"strict import rejected: {len(errors)} invalid object(s)"
            + (f", first: {first}" if first else "")
        )


class StoreError(AccordError):
    """The database refused or failed an operation."""


class SchemaOutOfDate(StoreError):
    """The database schema is not at this Accord's migration head."""

    def __init__(self, current: str | None, head: str) -> None:
        self.current = current
        self.head = head
        super().__init__(f"database schema is at {current or 'nothing'}, this Accord needs {head}")


class UnknownCollection(StoreError, KeyError):
    """No collection has that id or title."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(ref)

    def __str__(self) -> str:
        return f"no collection with id or title {self.ref!r}: see `accord collection list`"


class UnknownMember(StoreError, KeyError):
    """No member has that name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return f"no member named {self.name!r}: see `accord member list`"


class NotFound(AccordError, LookupError):
    """No stored object has that id."""

    def __init__(self, object_id: str) -> None:
        self.object_id = object_id
        super().__init__(f"no object with id {object_id}")
