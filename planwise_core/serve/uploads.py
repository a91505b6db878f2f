"""Uploads read from the request stream as it arrives, so a size limit is enforced before the cost is paid:
``Content-Length`` first, then a byte count while parsing (docs/serve.md, "Limits")."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from planwise_core.serve.security import same_token

MAX_FIELDS, MAX_FIELD_BYTES = 10, 1024
PARQUET_MAGIC = b"PAR1"


class UploadError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code = status, code


class _Receiver:
    """The multipart callbacks: small fields in memory, the one file to a ``.part`` file."""

    def __init__(self, tmp_dir: Path, csrf: str | None):
        self.fields: dict[str, str] = {}
        self.csrf, self.tmp_dir = csrf, tmp_dir
        self.part: Path | None = None
        self.filename: str | None = None
        self._fh = None
        self._headers: dict[str, bytes] = {}
        self._name, self._value, self._field, self._buffer = b"", b"", None, bytearray()

    def callbacks(self) -> dict:
        return {"on_part_begin": self._begin, "on_header_field": self._hfield, "on_header_value": self._hvalue,
                "on_header_end": self._hend, "on_headers_finished": self._hdone, "on_part_data": self._data,
                "on_part_end": self._end}

    def _begin(self):
        self._headers, self._name, self._value, self._buffer, self._field = {}, b"", b"", bytearray(), None

    def _hfield(self, data, start, end):
        self._name += data[start:end]

    def _hvalue(self, data, start, end):
        self._value += data[start:end]

    def _hend(self):
        self._headers[self._name.decode("latin-1").lower()] = self._value
        self._name, self._value = b"", b""

    def _hdone(self):
        _kind, options = parse_options_header(self._headers.get("content-disposition", b""))
        self._field = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            if self.part is not None:
                raise UploadError(400, "one_file", "send one file per request")
            if self.csrf is not None and not same_token(self.fields.get("csrf_token", ""), self.csrf):
                raise UploadError(403, "csrf", "missing or wrong CSRF token (it must come before the file)")
            self.filename = options[b"filename"].decode("utf-8", "replace")[:200]
            self.part = self.tmp_dir / f"{secrets.token_hex(8)}.part"
            self._fh = self.part.open("xb")
            self._field = None
        elif len(self.fields) >= MAX_FIELDS:
            raise UploadError(400, "too_many_fields", f"at most {MAX_FIELDS} form fields")

    def _data(self, data, start, end):
        if self._fh is not None and self._field is None:
            self._fh.write(data[start:end])
            return
        self._buffer += data[start:end]
        if len(self._buffer) > MAX_FIELD_BYTES:
            raise UploadError(400, "field_too_long", f"form fields hold at most {MAX_FIELD_BYTES} bytes")

    def _end(self):
        if self._fh is not None and self._field is None:
            self._fh.close()
            self._fh = None
        elif self._field:
            self.fields[self._field] = self._buffer.decode("utf-8", "replace")

    def close(self):
        if self._fh is not None:
            self._fh.close()


def _check_length(headers, limit: int) -> None:
    length = headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit + 64 * 1024:
        raise UploadError(413, "too_large", f"the upload is over the limit of {limit:,} bytes")


async def receive_multipart(request, tmp_dir: Path, limit: int, csrf: str | None) -> tuple[dict, Path, str]:
    """(fields, part file, client file name); UploadError on any refusal, with no file left behind."""
    _check_length(request.headers, limit)
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or b"boundary" not in options:
        raise UploadError(415, "not_multipart", "send multipart/form-data with a file field")
    receiver = _Receiver(tmp_dir, csrf)
    parser = MultipartParser(options[b"boundary"], receiver.callbacks())
    count = 0
    try:
        async for chunk in request.stream():
            count += len(chunk)
            if count > limit + 64 * 1024:  # the file plus a little room for the form's own lines
                raise UploadError(413, "too_large", f"the upload is over the limit of {limit:,} bytes")
            parser.write(chunk)
        parser.finalize()
        if receiver.part is None:
            raise UploadError(400, "no_file", "the form holds no file")
        return receiver.fields, receiver.part, receiver.filename or ""
    except BaseException:
        receiver.close()
        if receiver.part is not None:
            receiver.part.unlink(missing_ok=True)
        raise


async def receive_raw(request, tmp_dir: Path, limit: int) -> Path:
    _check_length(request.headers, limit)
    part = tmp_dir / f"{secrets.token_hex(8)}.part"
    count = 0
    try:
        with part.open("xb") as fh:
            async for chunk in request.stream():
                count += len(chunk)
                if count > limit:
                    raise UploadError(413, "too_large", f"the upload is over the limit of {limit:,} bytes")
                fh.write(chunk)
        return part
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def sniff(part: Path) -> str:
    """'parquet' or 'csv' by content (never by name); UploadError 415 for anything else."""
    size = part.stat().st_size
    with part.open("rb") as fh:
        head = fh.read(4)
        fh.seek(max(0, size - 4))
        tail = fh.read(4)
    if size >= 8 and head == PARQUET_MAGIC and tail == PARQUET_MAGIC:
        return "parquet"
    try:
        with part.open("r", encoding="utf-8", newline="") as fh:
            while block := fh.read(1 << 20):
                if "\x00" in block:
                    raise UnicodeError
    except UnicodeError:
        raise UploadError(415, "not_census", "the file is neither UTF-8 CSV text nor Parquet") from None
    return "csv"


def discard(part: Path) -> None:
    try:
        os.unlink(part)
    except OSError:
        pass
