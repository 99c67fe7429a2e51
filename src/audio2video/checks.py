"""Settings checked by type and by range, in one place: config files, `--set`, config.json.

`build` turns plain data (TOML, YAML, JSON) into a config dataclass, checking every key and every value's
type: an integer is a whole number (30.0 is taken as 30, 30.5 is refused), a number is finite (no NaN or
Infinity), a list holds what its type says. `check_ranges` then checks each field against its `Range`, kept in
a table beside the dataclass. Upper bounds that depend on the machine are not guessed: `require_memory` compares
what a setting needs at the least (e.g. a model's weights plus one clip) with the memory available now.
"""
from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class Range:
    """low <= value <= high (either end optional; `open` ends exclude the bound), for numbers and list items."""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    items: tuple[int, int | None] | None = None  # for lists: (fewest, most or None) items

    def problem(self, value: Any) -> str | None:
        if isinstance(value, (list, tuple)):
            if self.items:
                lo, hi = self.items
                if len(value) < lo or (hi is not None and len(value) > hi):
                    count = f"{lo}" if lo == hi else f"at least {lo}" if hi is None else f"{lo} to {hi}"
                    return f"must hold {count} item{'s' if (hi or lo) != 1 else ''}, not {len(value)}"
            return next((f"items {p}" for p in map(self.problem, value) if p), None)
        below = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        above = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        return f"must be {self.describe()}, not {value!r}" if below or above else None

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"in {left}{_num(self.low)}, {_num(self.high)}{right}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {_num(self.low)}"
        return f"{'<' if self.high_open else '<='} {_num(self.high)}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def check_ranges(obj: Any, ranges: dict[str, Range], prefix: str = "") -> list[str]:
    """One problem per field of `obj` outside its range ("prefix.name must be ...")."""
    problems = []
    for name, rng in ranges.items():
        value = getattr(obj, name)
        problem = rng.problem(value) if value is not None else None
        if problem:
            problems.append(f"{prefix}{name} {problem}")
    return problems


# ---- types ----------------------------------------------------------------------------------------------------

def build(cls: type, data: Any, where: str = "") -> Any:
    """Build dataclass `cls` from plain data, checking keys and types (an unknown key lists the valid ones)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a section of settings, got {data!r}")
    valid = [f.name for f in fields(cls) if f.init]
    unknown = sorted(set(data) - set(valid), key=str)
    if unknown:
        place = f" in [{where}]" if where else ""
        raise ConfigError(f"unknown config key {where + '.' if where else ''}{unknown[0]}; valid keys{place}: "
                          f"{', '.join(valid)}")
    kwargs = coerce_fields(cls, data, where)
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (ValueError, TypeError) as e:
        raise ConfigError(str(e)) from None


def coerce_fields(cls: type, data: dict[str, Any], where: str = "") -> dict[str, Any]:
    """`data`'s values, each checked and converted to the type its field of `cls` declares."""
    hints = typing.get_type_hints(cls)
    return {name: coerce(hints[name], value, f"{where}.{name}" if where else name) for name, value in data.items()}


def coerce(hint: Any, value: Any, key: str) -> Any:
    """`value` as type `hint`, or a ConfigError naming `key`."""
    if dataclasses.is_dataclass(hint):
        return value if isinstance(value, hint) else build(hint, value, key)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return coerce(options[0], value, key)
    if origin in (tuple, list):
        item = typing.get_args(hint)[0]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        items = [coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, float) and math.isfinite(value) and value == int(value):
            return int(value)  # 30.0 from a JSON writer means 30
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, str):  # YAML reads 1e-4 (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported setting type {hint}")  # a bug in the dataclass, not the file


# ---- memory ---------------------------------------------------------------------------------------------------

def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_memory() -> int:
    """Bytes of memory this process can still get: the system's MemAvailable, or less under a cgroup limit."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    limit, used = _read_int("/sys/fs/cgroup/memory.max"), _read_int("/sys/fs/cgroup/memory.current")
    if limit is not None and used is not None:
        found.append(max(limit - used, 0))
    return min(found) if found else 2 ** 62


def gigabytes(nbytes: float) -> str:
    gb = nbytes / 1e9
    return f"{gb:.2f} GB" if gb < 10 else f"{gb:,.0f} GB"


def require_memory(nbytes: float, what: str) -> None:
    """Refuse a setting whose least memory need, `nbytes`, exceeds what this machine has available now."""
    available = available_memory()
    if nbytes > available:
        raise ConfigError(f"{what} needs at least {gigabytes(nbytes)} of memory; {gigabytes(available)} is "
                          "available on this machine")
