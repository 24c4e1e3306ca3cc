"""The xlsx container: prove it is a sane zip before any parser inflates a byte of it.

An xlsx is a zip archive. A hostile one can declare gigabytes of content (zip bomb), lie about
its sizes, or be cut short. Everything here works on the declared sizes first and then inflates
each member with an output bound, so a member can never produce more than it declared, and
its CRC is checked, so calamine later reads exactly the bytes that were verified.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable

from edustat.findings import Finding
from edustat.intake.limits import ReadLimits
from edustat.intake.messages import finding, human_bytes

# A workbook has a dozen parts; thousands of members are no spreadsheet and only cost time.
MAX_MEMBERS = 2_000
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, (fixed fields), name len, extra len
_IN_CHUNK = 64 * 1024
_OUT_CHUNK = 1024 * 1024


class ZipProblem(Exception):
    """The archive cannot be read safely; carries the finding that says why."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message_en)
        self.finding = finding


def corrupt(detail_zh: str, detail_en: str) -> ZipProblem:
    return ZipProblem(
        finding(
            "corrupt_workbook",
            f"工作簿已损坏或不完整（{detail_zh}），无法读取：请在 Excel 中重新保存后再报送",
            f"the workbook is damaged or incomplete ({detail_en}) and cannot be read: "
            "save it again in Excel and resubmit",
        )
    )


def _bomb(zh: str, en: str, value: str) -> ZipProblem:
    return ZipProblem(
        finding(
            "zip_bomb",
            f"文件解压后过大（{zh}），疑似压缩炸弹，已拒收：请只报送学校数据表",
            f"the file would expand too far ({en}); rejected as a possible zip bomb: "
            "submit only the school sheet",
            value=value,
        )
    )


def open_archive(data: bytes, limits: ReadLimits) -> zipfile.ZipFile:
    """Open the zip and check its declared expansion; raises ZipProblem."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    # A hostile or damaged archive surfaces as any of these: zipfile raises
    # NotImplementedError for zip features it does not implement; that is a rejection too.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            struct.error, NotImplementedError) as exc:
        raise corrupt("压缩结构无法解析", f"zip structure unreadable: {exc}") from exc
    if len(infos) > MAX_MEMBERS:
        raise corrupt(f"压缩包内有 {len(infos)} 个文件", f"{len(infos)} members in the archive")
    for info in infos:
        if info.flag_bits & 0x1:
            raise corrupt(f"{info.filename} 被 zip 加密", f"{info.filename} is zip-encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise corrupt(
                f"{info.filename} 使用了不支持的压缩方式 {info.compress_type}",
                f"{info.filename} uses unsupported compression method {info.compress_type}",
            )
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_expanded_bytes:
        raise _bomb(
            f"声明解压大小 {human_bytes(declared)}，上限 {human_bytes(limits.max_expanded_bytes)}",
            f"declared expansion {human_bytes(declared)}, limit "
            f"{human_bytes(limits.max_expanded_bytes)}",
            str(declared),
        )
    ratio = declared / max(len(data), 1)
    if ratio > limits.max_compression_ratio:
        raise _bomb(
            f"压缩比 {ratio:.0f}:1，上限 {limits.max_compression_ratio:.0f}:1",
            f"compression ratio {ratio:.0f}:1, limit {limits.max_compression_ratio:.0f}:1",
            f"{ratio:.0f}",
        )
    return archive


def inflate(data: bytes, info: zipfile.ZipInfo, sink: Callable[[bytes], None]) -> None:
    """Stream one member's content to `sink`, never beyond its declared size; raises ZipProblem.

    zipfile itself stops at the declared size without noticing that more was there; a member
    that inflates past its declaration is exactly the lie a zip bomb tells a careless parser.
    """
    name = info.filename
    offset = info.header_offset
    header = data[offset:offset + _LOCAL_HEADER.size + 4]
    if len(header) < _LOCAL_HEADER.size:
        raise corrupt(f"{name} 的本地头缺失", f"local header of {name} missing")
    signature, name_len, extra_len = _LOCAL_HEADER.unpack_from(header)
    if signature != b"PK\x03\x04":
        raise corrupt(f"{name} 的本地头无效", f"bad local header for {name}")
    start = offset + _LOCAL_HEADER.size + name_len + extra_len
    payload = memoryview(data)[start:start + info.compress_size]
    if len(payload) < info.compress_size:
        raise corrupt(f"{name} 被截断", f"{name} is truncated")

    total = 0
    crc = 0

    def emit(out: bytes) -> None:
        nonlocal total, crc
        if not out:
            return
        total += len(out)
        if total > info.file_size:
            raise _bomb(
                f"{name} 实际解压超过声明的 {human_bytes(info.file_size)}",
                f"{name} inflates beyond its declared {human_bytes(info.file_size)}",
                name,
            )
        crc = zlib.crc32(out, crc)
        sink(out)

    if info.compress_type == zipfile.ZIP_STORED:
        for pos in range(0, len(payload), _OUT_CHUNK):
            emit(bytes(payload[pos:pos + _OUT_CHUNK]))
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            for pos in range(0, len(payload), _IN_CHUNK):
                pending = bytes(payload[pos:pos + _IN_CHUNK])
                while pending:
                    emit(inflater.decompress(pending, _OUT_CHUNK))
                    pending = inflater.unconsumed_tail
            emit(inflater.flush())
        except zlib.error as exc:
            raise corrupt(
                f"{name} 的压缩数据损坏", f"deflate data of {name} broken: {exc}"
            ) from exc
        if not inflater.eof:
            raise corrupt(f"{name} 的压缩数据不完整", f"deflate stream of {name} ends early")
    if total != info.file_size:
        raise corrupt(
            f"{name} 大小与声明不符", f"{name} is {total} bytes, {info.file_size} declared"
        )
    if crc != info.CRC:
        raise corrupt(f"{name} 校验失败（CRC）", f"CRC mismatch in {name}")


def read_member(data: bytes, info: zipfile.ZipInfo, max_bytes: int) -> bytes:
    """A small member (workbook.xml, rels) in full, verified; raises ZipProblem."""
    if info.file_size > max_bytes:
        raise corrupt(
            f"{info.filename} 异常地大（{human_bytes(info.file_size)}）",
            f"{info.filename} is unusually large ({human_bytes(info.file_size)})",
        )
    parts: list[bytes] = []
    inflate(data, info, parts.append)
    return b"".join(parts)
