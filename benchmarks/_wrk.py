"""wrk as the load generator: one Lua script varies message_id per request; output parsed."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = r"""
-- A fresh message_id per request: <run prefix>-<counter>, shaped as a UUID (version 4).
local prefix = os.getenv("BENCH_ID_PREFIX")
local head, tail
local counter = 0
local path = os.getenv("BENCH_BODY_FILE")
local marker = os.getenv("BENCH_ID_MARKER")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BENCH_TOKEN")
if token and #token > 0 then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local f = io.open(path, "rb")
local body = f:read("*a")
f:close()
local at = string.find(body, marker, 1, true)
if at then
  head = string.sub(body, 1, at - 1)
  tail = string.sub(body, at + #marker)
end

request = function()
  if not head then
    return wrk.format(nil, nil, nil, body)
  end
  counter = counter + 1
  local id = string.format("%s-0000-4000-8000-%012x", prefix, counter)
  return wrk.format(nil, nil, nil, head .. id .. tail)
end
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


def wrk_path() -> str | None:
    return shutil.which("wrk")


def write_script(folder: Path) -> Path:
    path = folder / "post_varying_id.lua"
    path.write_text(LUA, encoding="utf-8")
    return path


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"unreadable latency {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse(output: str) -> WrkResult:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rate and p50 and p99 and total):
        raise ValueError(f"unreadable wrk output: {output[-400:]}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_s=float(rate[1]),
        p50_ms=_ms(p50[1]),
        p99_ms=_ms(p99[1]),
        requests=int(total[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def run_wrk(
    url: str,
    *,
    script: Path,
    body_file: Path,
    id_prefix: str,
    id_marker: str,
    token: str = "",
    seconds: float,
    connections: int = 32,
) -> WrkResult:
    """One wrk run: one thread (the server needs the other core), ``connections`` open."""
    binary = wrk_path()
    if binary is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    env = {
        "BENCH_BODY_FILE": str(body_file),
        "BENCH_ID_PREFIX": id_prefix,
        "BENCH_ID_MARKER": id_marker,
        "BENCH_TOKEN": token,
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [
            binary,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr.strip()[-300:]}")
    return parse(result.stdout)
